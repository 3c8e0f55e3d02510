import { createServer } from 'node:http';
import { connect } from 'node:net';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import compress from 'koa-compress';
import { listen, expectEventsOneByOne, requestEventStream, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reject, sse, SseHeadersSentError, stopReconnecting, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

type App = Koa3;

/** Starts the app and records what Koa reports as application errors. */
async function start(app: App): Promise<{ url: string; appErrors: unknown[] }> {
  const appErrors: unknown[] = [];
  app.on('error', (error: unknown) => appErrors.push(error));
  const callback = app.callback();
  // Not awaited: Koa's callback settles its own errors, reporting them as the 'error' events recorded here.
  const server = await listen(createServer((req, res) => void callback(req, res)), '/events');
  servers.push(server);
  return { url: server.url, appErrors };
}

function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

/** Lets late socket callbacks (where Koa would report an error) run before checking that none came. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

describe.each([
  ['koa 3', Koa3],
  ['koa 2', Koa2],
])('%s', (_name, Koa) => {
  describe('a client that leaves is not an application error', () => {
    it('a reset from a client that stopped reading (ECONNRESET, ERR_STREAM_PREMATURE_CLOSE) reaches neither app.on("error") nor onError', async () => {
      const streams: EventStream[] = [];
      const onError = vi.fn();
      const app = new Koa().use(
        sse(
          (stream) => {
            streams.push(stream);
            // Leaves unread data in the client's socket, so that its close is a reset.
            for (let i = 0; i < 256; i++) stream.send('k'.repeat(1024));
          },
          { keepAlive: 10, onError },
        ),
      );
      const { url, appErrors } = await start(app);
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      socket.pause();
      await until(() => streams.length === 1);
      socket.resetAndDestroy();
      expect(await streams[0]!.closed).toEqual({ reason: 'client' });
      await settle();
      expect(appErrors).toEqual([]);
      expect(onError).not.toHaveBeenCalled();
    });

    it('while streaming, a connection error stays quiet and any other error still reaches app.on("error"), with an onerror of its own kept too', async () => {
      const contexts: Array<{ onerror(error: Error): void }> = [];
      const own: Error[] = [];
      const app = new Koa();
      app.use(async (ctx, next) => {
        // A context whose onerror another middleware replaced (an own property) keeps it.
        if (ctx.path === '/events' && ctx.query['own'] === '1') {
          const koaOnError = ctx.onerror;
          ctx.onerror = (error: Error) => {
            own.push(error);
            koaOnError.call(ctx, error);
          };
        }
        await next();
      });
      app.use(sse((_stream, ctx) => void contexts.push(ctx), { keepAlive: false }));
      const { url, appErrors } = await start(app);
      const plain = await requestEventStream(url);
      const wrapped = await requestEventStream(`${url}?own=1`);
      await until(() => contexts.length === 2);
      const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      for (const ctx of contexts) {
        ctx.onerror(reset);
        ctx.onerror(new Error('boom'));
      }
      await until(() => appErrors.length === 2);
      expect(appErrors.map((error) => (error as Error).message)).toEqual(['boom', 'boom']);
      expect(own.map((error) => error.message)).toEqual(['boom']);
      plain.close();
      wrapped.close();
    });

    it('a client that disconnects while reading ends the stream with reason client and no error', async () => {
      const streams: EventStream[] = [];
      const app = new Koa().use(sse((stream) => void streams.push(stream), { keepAlive: 10 }));
      const { url, appErrors } = await start(app);
      const client = await requestEventStream(url);
      await until(() => streams.length === 1);
      await client.until(() => client.comments.length > 0, 'a keep-alive');
      client.close();
      expect(await streams[0]!.closed).toEqual({ reason: 'client' });
      await settle();
      expect(appErrors).toEqual([]);
    });
  });

  describe('headers already sent', () => {
    it('reports a typed SseHeadersSentError through Koa when an earlier middleware started the response', async () => {
      const handler = vi.fn();
      const app = new Koa()
        .use(async (ctx, next) => {
          ctx.res.writeHead(200, { 'content-type': 'text/plain' });
          ctx.res.write('an earlier middleware started the response');
          await next();
        })
        .use(sse(handler));
      const { url, appErrors } = await start(app);
      const client = await requestEventStream(url);
      await until(() => appErrors.length === 1);
      client.close();
      expect(handler).not.toHaveBeenCalled();
      expect(appErrors[0]).toBeInstanceOf(SseHeadersSentError);
      expect(appErrors[0]).toMatchObject({ state: 'headers were already sent with status 200', code: 'ERR_SSE_HEADERS_SENT' });
    });

    it('ctx.body, ctx.status and ctx.set after the stream opened change nothing on the wire', async () => {
      const streams: EventStream[] = [];
      const app = new Koa().use(
        sse(
          (stream, ctx) => {
            streams.push(stream);
            stream.send('before');
            ctx.status = 500;
            ctx.set('x-late', 'yes');
            ctx.body = { error: 'should never reach the stream' };
            stream.send('after');
          },
          { keepAlive: false },
        ),
      );
      const { url, appErrors } = await start(app);
      const client = await requestEventStream(url);
      expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['before', 'after']);
      expect(client.status).toBe(200);
      expect(client.headers['x-late']).toBeUndefined();
      streams[0]!.close();
      expect(await client.waitForEnd()).toBe('end');
      expect(client.text).not.toContain('should never reach the stream');
      expect(appErrors).toEqual([]);
    });
  });

  describe('auth and rate limits before the stream', () => {
    it('authorize sees ctx and answers 401, 429 + Retry-After or 204 as ordinary Koa responses', async () => {
      const app = new Koa().use(
        sse((stream) => stream.send('welcome'), {
          authorize: (ctx) => {
            if (ctx.query.gone === '1') return stopReconnecting();
            if (ctx.get('authorization') !== 'Bearer ok') return reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } });
            if (ctx.query.busy === '1') return reject(429, { retryAfter: 30 });
            return true;
          },
        }),
      );
      const { url } = await start(app);
      const anonymous = await requestEventStream(url);
      await anonymous.waitForEnd();
      expect([anonymous.status, anonymous.headers['www-authenticate'], anonymous.text]).toEqual([401, 'Bearer', 'Unauthorized']);
      const limited = await requestEventStream(`${url}?busy=1`, { headers: { authorization: 'Bearer ok' } });
      expect([limited.status, limited.headers['retry-after']]).toEqual([429, '30']);
      const gone = await requestEventStream(`${url}?gone=1`);
      expect(await gone.waitForEnd()).toBe('end');
      expect([gone.status, gone.bytes]).toEqual([204, 0]);
      const allowed = await requestEventStream(url, { headers: { authorization: 'Bearer ok' } });
      expect((await allowed.waitForEvents(1)).map((e) => e.data)).toEqual(['welcome']);
      allowed.close();
    });

    it('ordinary middleware can reject with ctx.throw before sse() writes anything', async () => {
      const handler = vi.fn();
      const app = new Koa()
        .use(async (ctx, next) => {
          if (ctx.get('authorization') === '') ctx.throw(401, 'sign in first');
          await next();
        })
        .use(sse(handler));
      const { url } = await start(app);
      const client = await requestEventStream(url);
      await client.waitForEnd();
      expect([client.status, client.text]).toEqual([401, 'sign in first']);
      expect(handler).not.toHaveBeenCalled();
    });
  });

  it('with koa-compress in front, events arrive one by one, uncompressed', async () => {
    const streams: EventStream[] = [];
    const app = new Koa().use(compress({ threshold: 0 })).use(sse((stream) => void streams.push(stream), { keepAlive: false }));
    const { url } = await start(app);
    const client = await requestEventStream(url, { headers: { 'accept-encoding': 'gzip' } });
    expect(client.headers['content-encoding']).toBeUndefined();
    await until(() => streams.length === 1);
    await expectEventsOneByOne(client, (n) => streams[0]!.send(`event ${n}`));
    client.close();
  });

  it('a handler that fails goes to onError, not to app.on("error")', async () => {
    const failure = new Error('handler failed');
    const onError = vi.fn();
    const app = new Koa().use(
      sse(
        () => {
          throw failure;
        },
        { onError },
      ),
    );
    const { url, appErrors } = await start(app);
    const client = await requestEventStream(url);
    expect(client.status).toBe(200);
    await client.waitForEnd();
    await settle();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBe(failure);
    expect(appErrors).toEqual([]);
  });

  it('a POST stream stays open after its body was read', async () => {
    const streams: EventStream[] = [];
    const requestClosed: boolean[] = [];
    const app = new Koa().use(
      sse(
        async (stream, ctx) => {
          streams.push(stream);
          let body = '';
          for await (const chunk of ctx.req) body += String(chunk);
          ctx.req.once('close', () => requestClosed.push(true));
          if (ctx.req.closed) requestClosed.push(true);
          stream.send({ data: { received: body } });
        },
        { keepAlive: false },
      ),
    );
    const { url } = await start(app);
    const client = await requestEventStream(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'topic=news' });
    await client.waitForEvents(1);
    await until(() => requestClosed.length > 0);
    expect(streams[0]!.isClosed).toBe(false);
    streams[0]!.send('still open');
    expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['{"received":"topic=news"}', 'still open']);
    client.close();
  });
});
