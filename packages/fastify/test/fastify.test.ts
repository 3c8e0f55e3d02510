import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import compress5 from '@fastify/compress';
import fastify5, { type FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import compress4 from 'fastify-compress7';
import { listen, expectEventsOneByOne, requestEventStream, type MountedServer } from '@sse/conformance';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStreamRegistry, reject, sse, SseHeadersSentError, stopReconnecting, type EventMap, type EventStream } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A line of Fastify's logger (pino): level 40 is warn, 50 error. */
interface LogLine {
  level: number;
  msg: string;
  err?: { message: string; type: string };
}

/**
 * A Fastify app whose logger writes into `logs` (or, with `logged: false`, one without a logger,
 * Fastify's default), on a server of ours that `listen()` starts.
 */
function createApp(fastify: typeof fastify5, logged = true): { app: FastifyInstance; logs: LogLine[]; start(): Promise<string> } {
  const logs: LogLine[] = [];
  let server: Server | undefined;
  const app = fastify({
    ...(logged ? { logger: { level: 'info', stream: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } } } : {}),
    serverFactory: (handle) => (server = createServer(handle)),
  });
  return {
    app,
    logs,
    async start() {
      await app.ready();
      const mounted = await listen(server!, '/events');
      servers.push(mounted);
      return mounted.url;
    },
  };
}

/** What Fastify logged as a warning or an error (a reply sent twice, a handler failure…). */
const problems = (logs: LogLine[]): LogLine[] => logs.filter((line) => line.level >= 40);

function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

/** Lets late socket callbacks (where Fastify would log) run before checking that nothing came. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

/** A `pipe()` source that sends one event, then fails when `fail()` is called. */
function failingSource(): { events(): AsyncGenerator<string>; fail(): void } {
  let fail!: () => void;
  const failed = new Promise<void>((resolve) => (fail = resolve));
  return {
    async *events() {
      yield 'opened';
      await failed;
      throw new Error('the source failed');
    },
    fail,
  };
}

describe.each([
  ['fastify 5', fastify5, compress5],
  ['fastify 4', fastify4, compress4],
])('%s', (_name, fastify, compress) => {
  describe('Fastify sends no reply of its own', () => {
    it('the stream outlives its handler, whatever the handler returns, and nothing is logged as sent twice', async () => {
      const streams: EventStream[] = [];
      const { app, logs, start } = createApp(fastify);
      app.get(
        '/events',
        sse(
          // An async handler's value would be a reply body for Fastify; the hijacked reply ignores it.
          async (stream) => {
            streams.push(stream);
            stream.send('hello');
            return { body: 'should never reach the stream' };
          },
          { keepAlive: false },
        ),
      );
      const client = await requestEventStream(await start());
      expect((await client.waitForEvents(1)).map((e) => e.data)).toEqual(['hello']);
      await settle();
      streams[0]!.send('still open');
      expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['hello', 'still open']);
      streams[0]!.close();
      expect(await client.waitForEnd()).toBe('end');
      expect(client.text).not.toContain('should never reach the stream');
      await settle();
      expect(problems(logs)).toEqual([]);
    });

    it('reply.send() in the handler after the stream opened writes nothing into it', async () => {
      const streams: EventStream[] = [];
      const { app, logs, start } = createApp(fastify);
      app.get(
        '/events',
        sse(
          (stream, _request, reply) => {
            streams.push(stream);
            stream.send('before');
            void reply.code(500).send({ error: 'should never reach the stream' });
            stream.send('after');
          },
          { keepAlive: false },
        ),
      );
      const client = await requestEventStream(await start());
      expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['before', 'after']);
      expect(client.status).toBe(200);
      streams[0]!.close();
      expect(await client.waitForEnd()).toBe('end');
      expect(client.text).not.toContain('should never reach the stream');
      // Fastify's own answer to a send on a hijacked reply: a warning, and nothing on the wire.
      expect(problems(logs).map((line) => line.level)).toEqual([40]);
    });
  });

  describe('hooks run before the stream', () => {
    it('an onRequest hook rejects with reply.code(401).send() and the handler never runs', async () => {
      const handler = vi.fn();
      const { app, start } = createApp(fastify);
      app.addHook('onRequest', async (request, reply) => {
        if (request.headers.authorization !== 'Bearer ok') return reply.code(401).send({ error: 'sign in first' });
      });
      app.get('/events', sse(handler));
      const url = await start();
      const anonymous = await requestEventStream(url);
      await anonymous.waitForEnd();
      expect([anonymous.status, anonymous.text]).toEqual([401, '{"error":"sign in first"}']);
      expect(handler).not.toHaveBeenCalled();
      const allowed = await requestEventStream(url, { headers: { authorization: 'Bearer ok' } });
      expect(allowed.status).toBe(200);
      await until(() => handler.mock.calls.length === 1);
      allowed.close();
    });

    it('headers that hooks set with reply.header() (CORS, security) go out with the stream', async () => {
      const { app, start } = createApp(fastify);
      app.addHook('onRequest', async (_request, reply) => {
        void reply.header('access-control-allow-origin', 'https://app.example').header('x-request-tag', 'from-a-hook');
      });
      app.get('/events', sse((stream) => stream.send('hello'), { keepAlive: false }));
      const client = await requestEventStream(await start());
      await client.waitForEvents(1);
      expect(client.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(client.headers['x-request-tag']).toBe('from-a-hook');
      expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
      client.close();
    });

    it('authorize sees request and reply, and its 401, 429 + Retry-After and 204 are Fastify replies that onSend hooks see', async () => {
      const { app, start } = createApp(fastify);
      app.addHook('onSend', async (_request, reply, payload) => {
        void reply.header('x-seen-by-onsend', 'yes');
        return payload;
      });
      app.get<{ Querystring: { busy?: string; gone?: string } }>(
        '/events',
        sse((stream) => stream.send('welcome'), {
          authorize: (request) => {
            const query = request.query as { busy?: string; gone?: string };
            if (query.gone === '1') return stopReconnecting();
            if (request.headers.authorization !== 'Bearer ok') return reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } });
            if (query.busy === '1') return reject(429, { retryAfter: 30 });
            return true;
          },
        }),
      );
      const url = await start();
      const anonymous = await requestEventStream(url);
      await anonymous.waitForEnd();
      expect([anonymous.status, anonymous.headers['www-authenticate'], anonymous.text]).toEqual([401, 'Bearer', 'Unauthorized']);
      expect(anonymous.headers['x-seen-by-onsend']).toBe('yes');
      const limited = await requestEventStream(`${url}?busy=1`, { headers: { authorization: 'Bearer ok' } });
      await limited.waitForEnd();
      expect([limited.status, limited.headers['retry-after']]).toEqual([429, '30']);
      const gone = await requestEventStream(`${url}?gone=1`);
      expect(await gone.waitForEnd()).toBe('end');
      expect([gone.status, gone.bytes]).toEqual([204, 0]);
      const allowed = await requestEventStream(url, { headers: { authorization: 'Bearer ok' } });
      expect((await allowed.waitForEvents(1)).map((e) => e.data)).toEqual(['welcome']);
      allowed.close();
    });

    it('a response an onRequest hook started by hand goes to the error handler as SseHeadersSentError', async () => {
      const handler = vi.fn();
      const errors: unknown[] = [];
      const { app, start } = createApp(fastify);
      app.setErrorHandler((error) => void errors.push(error));
      app.addHook('onRequest', async (_request, reply) => {
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        reply.raw.write('a hook started the response');
      });
      app.get('/events', sse(handler));
      const client = await requestEventStream(await start());
      await until(() => errors.length === 1);
      client.close();
      expect(handler).not.toHaveBeenCalled();
      expect(errors[0]).toBeInstanceOf(SseHeadersSentError);
      expect(errors[0]).toMatchObject({ state: 'headers were already sent with status 200', code: 'ERR_SSE_HEADERS_SENT' });
    });
  });

  describe("errors go to Fastify's logger", () => {
    it('without onError, a failing handler is logged with request.log.error, the stream closes, and the server keeps serving', async () => {
      const { app, logs, start } = createApp(fastify);
      app.get(
        '/events',
        sse(() => {
          throw new Error('handler failed');
        }),
      );
      app.get('/other', async () => ({ ok: true }));
      const url = await start();
      const client = await requestEventStream(url);
      expect(client.status).toBe(200);
      await client.waitForEnd();
      await until(() => problems(logs).length > 0);
      expect(problems(logs)).toMatchObject([{ level: 50, msg: 'event stream failed; the stream was closed', err: { message: 'handler failed' } }]);
      const other = await fetch(new URL('/other', url));
      expect(await other.json()).toEqual({ ok: true });
    });

    it('an open stream without onError keeps neither request nor reply (Fastify without a logger keeps none either)', async () => {
      const { app, start } = createApp(fastify, false);
      const refs: Array<WeakRef<object>> = [];
      const source = failingSource();
      app.get(
        '/events',
        sse((stream, request, reply) => {
          refs.push(new WeakRef(request), new WeakRef(reply));
          void stream.pipe(source.events());
        }),
      );
      const client = await requestEventStream(await start());
      expect(client.status).toBe(200);
      await until(() => refs.length === 2);
      await settle();
      gc();
      expect(refs.map((ref) => ref.deref())).toEqual([undefined, undefined]);
      source.fail();
      await client.waitForEnd();
    });

    it('a failure long after the stream opened still goes to request.log.error', async () => {
      const { app, logs, start } = createApp(fastify);
      const source = failingSource();
      app.get(
        '/events',
        sse((stream) => {
          void stream.pipe(source.events());
        }),
      );
      const client = await requestEventStream(await start());
      expect(client.status).toBe(200);
      await settle();
      source.fail();
      await client.waitForEnd();
      await until(() => problems(logs).length > 0);
      expect(problems(logs)).toMatchObject([{ level: 50, msg: 'event stream failed; the stream was closed', err: { message: 'the source failed' } }]);
    });

    it('with onError, the stream keeps request and reply for it', async () => {
      // No logger: Fastify would otherwise keep the reply itself until the response ends.
      const { app, start } = createApp(fastify, false);
      const refs: Array<WeakRef<object>> = [];
      app.get(
        '/events',
        sse(
          (_stream, request, reply) => {
            refs.push(new WeakRef(request), new WeakRef(reply));
          },
          { onError: () => undefined },
        ),
      );
      const client = await requestEventStream(await start());
      expect(client.status).toBe(200);
      await until(() => refs.length === 2);
      await settle();
      gc();
      expect(refs.every((ref) => ref.deref() !== undefined)).toBe(true);
      client.close();
    });

    it('an onError given replaces the logger', async () => {
      const failure = new Error('handler failed');
      const onError = vi.fn();
      const { app, logs, start } = createApp(fastify);
      app.get(
        '/events',
        sse(
          async () => {
            await Promise.resolve();
            throw failure;
          },
          { onError },
        ),
      );
      const client = await requestEventStream(await start());
      await client.waitForEnd();
      await until(() => onError.mock.calls.length === 1);
      expect(onError.mock.calls[0]![0]).toBe(failure);
      await settle();
      expect(problems(logs)).toEqual([]);
    });

    it('a client that resets the connection closes the stream with reason client and logs nothing', async () => {
      const streams: EventStream[] = [];
      const { app, logs, start } = createApp(fastify);
      app.get(
        '/events',
        sse(
          (stream) => {
            streams.push(stream);
            // Leaves unread data in the client's socket, so that its close is a reset.
            for (let i = 0; i < 256; i++) stream.send('k'.repeat(1024));
          },
          { keepAlive: 10 },
        ),
      );
      const { port } = new URL(await start());
      const socket = connect(Number(port), '127.0.0.1');
      socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      socket.pause();
      await until(() => streams.length === 1);
      socket.resetAndDestroy();
      expect(await streams[0]!.closed).toEqual({ reason: 'client' });
      await settle();
      expect(problems(logs)).toEqual([]);
    });
  });

  it('with @fastify/compress registered, events arrive one by one, uncompressed', async () => {
    const streams: EventStream[] = [];
    const { app, start } = createApp(fastify);
    await app.register(compress, { threshold: 0 });
    app.get('/events', sse((stream) => void streams.push(stream), { keepAlive: false }));
    const client = await requestEventStream(await start(), { headers: { 'accept-encoding': 'gzip' } });
    expect(client.headers['content-encoding']).toBeUndefined();
    await until(() => streams.length === 1);
    await expectEventsOneByOne(client, (n) => streams[0]!.send(`event ${n}`));
    client.close();
  });

  it('a POST stream gets its parsed body and stays open after it', async () => {
    const streams: EventStream[] = [];
    const { app, start } = createApp(fastify);
    app.post(
      '/events',
      sse(
        (stream, request) => {
          streams.push(stream);
          stream.send({ data: { received: request.body } });
        },
        { keepAlive: false },
      ),
    );
    const client = await requestEventStream(await start(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":"news"}' });
    await client.waitForEvents(1);
    await until(() => streams.length === 1);
    expect(streams[0]!.isClosed).toBe(false);
    streams[0]!.send('still open');
    expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['{"received":{"topic":"news"}}', 'still open']);
    client.close();
  });

  it("the route's generics type request.params in the handler", async () => {
    const { app, start } = createApp(fastify);
    app.get<{ Params: { room: string } }>(
      '/rooms/:room',
      sse<EventMap, { Params: { room: string } }>((stream, request) => stream.send(request.params.room.toUpperCase()), { keepAlive: false }),
    );
    const client = await requestEventStream(new URL('/rooms/lobby', await start()).href);
    expect((await client.waitForEvents(1)).map((e) => e.data)).toEqual(['LOBBY']);
    client.close();
  });

  it("app.close() ends the open streams when a preClose hook closes the route's registry", async () => {
    const registry = createStreamRegistry();
    const { app, start } = createApp(fastify);
    app.addHook('preClose', async () => {
      await registry.closeAll();
    });
    app.get('/events', sse((stream) => stream.send('hello'), { registry, keepAlive: false }));
    const client = await requestEventStream(await start());
    await client.waitForEvents(1);
    await app.close();
    expect(await client.waitForEnd()).toBe('end');
    expect(registry.counters().open).toBe(0);
  });
});

describe('fastify 5', () => {
  it("a route's handlerTimeout does not cut the stream: the hijacked reply is the stream's to end", async () => {
    const streams: EventStream[] = [];
    const { app, logs, start } = createApp(fastify5);
    app.get('/events', { handlerTimeout: 20 }, sse((stream) => void streams.push(stream), { keepAlive: 10 }));
    const client = await requestEventStream(await start());
    // Ten keep-alives at 10 ms apart: the stream lived well past the 20 ms handler timeout.
    await client.until(() => client.comments.length >= 10, 'ten keep-alives');
    streams[0]!.send('still open');
    expect((await client.waitForEvents(1)).map((e) => e.data)).toEqual(['still open']);
    client.close();
    expect(problems(logs)).toEqual([]);
  });
});
