import { connect } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { listen, expectEventsOneByOne, readEventStream, requestEventStream, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reject, sse, stopReconnecting, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(app: Hono): Promise<string> {
  const server = await listen(createAdaptorServer({ fetch: app.fetch }), '/events');
  servers.push(server);
  return server.url;
}

function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

describe('through app.request() (the Fetch path: Bun, Deno, Workers)', () => {
  function streamingApp(streams: EventStream[]): Hono {
    return new Hono().get(
      '/events',
      sse(
        (stream) => {
          streams.push(stream);
          stream.send({ id: '1', data: 'hello' });
        },
        { keepAlive: false },
      ),
    );
  }

  it('answers a Response whose body streams the events', async () => {
    const streams: EventStream[] = [];
    const response = await streamingApp(streams).request('/events');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('connection')).toBeNull();
    const client = readEventStream(response);
    await client.waitForEvents(1);
    streams[0]!.send('second');
    await client.waitForEvents(2);
    expect(client.events.map((e) => e.data)).toEqual(['hello', 'second']);
    streams[0]!.close();
    expect(await client.ended).toBe('end');
  });

  it('sees the client leave through the request signal', async () => {
    const streams: EventStream[] = [];
    const controller = new AbortController();
    const response = await streamingApp(streams).request('/events', { signal: controller.signal });
    await readEventStream(response).waitForEvents(1);
    controller.abort();
    expect(await streams[0]!.closed).toEqual({ reason: 'client' });
    expect(streams[0]!.signal.aborted).toBe(true);
  });

  it('sees the client leave through the body being cancelled', async () => {
    const streams: EventStream[] = [];
    const response = await streamingApp(streams).request('/events');
    const client = readEventStream(response);
    await client.waitForEvents(1);
    await client.close();
    expect(await streams[0]!.closed).toEqual({ reason: 'client' });
    expect(streams[0]!.send('late')).toBe(false);
  });

  it('answers a rejection from authorize as a plain Response', async () => {
    const app = new Hono().get(
      '/events',
      sse(() => undefined, { authorize: (c) => (c.req.header('authorization') === undefined ? reject(429, { retryAfter: 7 }) : stopReconnecting()) }),
    );
    const limited = await app.request('/events');
    expect([limited.status, limited.headers.get('retry-after'), await limited.text()]).toEqual([429, '7', 'Too Many Requests']);
    const stopped = await app.request('/events', { headers: { authorization: 'Bearer x' } });
    expect([stopped.status, await stopped.text()]).toEqual([204, '']);
  });
});

describe('on @hono/node-server', () => {
  it('a client that leaves aborts the request signal the handler sees, and the stream closes with reason client', async () => {
    const seen: Array<{ stream: EventStream; signal: AbortSignal }> = [];
    const app = new Hono().get(
      '/events',
      sse((stream, c) => void seen.push({ stream, signal: c.req.raw.signal }), { keepAlive: false }),
    );
    const client = await requestEventStream(await start(app));
    await until(() => seen.length === 1);
    client.close();
    expect(await seen[0]!.stream.closed).toEqual({ reason: 'client' });
    await until(() => seen[0]!.signal.aborted);
  });

  it('authorize sees c, and ordinary middleware can answer 401 before the stream', async () => {
    const handler = vi.fn();
    const app = new Hono()
      .use('/events', async (c, next) => {
        if (c.req.header('authorization') === undefined) return c.text('sign in first', 401);
        await next();
        return undefined;
      })
      .get('/events', sse(handler, { authorize: (c) => c.req.header('authorization') === 'Bearer ok' }));
    const url = await start(app);
    const anonymous = await requestEventStream(url);
    await anonymous.waitForEnd();
    expect([anonymous.status, anonymous.text]).toEqual([401, 'sign in first']);
    const wrong = await requestEventStream(url, { headers: { authorization: 'Bearer nope' } });
    await wrong.waitForEnd();
    expect([wrong.status, wrong.text]).toEqual([403, 'Forbidden']);
    expect(handler).not.toHaveBeenCalled();
  });

  it('with compress() in front, events arrive one by one, uncompressed', async () => {
    const streams: EventStream[] = [];
    const app = new Hono().use(compress()).get('/events', sse((stream) => void streams.push(stream), { keepAlive: false }));
    const client = await requestEventStream(await start(app), { headers: { 'accept-encoding': 'gzip' } });
    expect(client.headers['content-encoding']).toBeUndefined();
    await until(() => streams.length === 1);
    await expectEventsOneByOne(client, (n) => streams[0]!.send(`event ${n}`));
    client.close();
  });

  it('a POST stream stays open after the handler read its body', async () => {
    const streams: EventStream[] = [];
    const app = new Hono().post(
      '/events',
      sse(
        async (stream, c) => {
          streams.push(stream);
          stream.send({ data: { received: await c.req.text() } });
        },
        { keepAlive: false },
      ),
    );
    const client = await requestEventStream(await start(app), { method: 'POST', body: 'topic=news' });
    await client.waitForEvents(1);
    expect(streams[0]!.isClosed).toBe(false);
    streams[0]!.send('still open');
    expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['{"received":"topic=news"}', 'still open']);
    client.close();
  });

  it('cuts a client that stopped reading off without the server logging an error', async () => {
    const consoleError = vi.spyOn(console, 'error');
    const streams: EventStream[] = [];
    const app = new Hono().get(
      '/events',
      sse(
        async (stream) => {
          streams.push(stream);
          while (!stream.isClosed) {
            for (let i = 0; i < 16; i++) stream.send('s'.repeat(16 * 1024));
            await new Promise((resolve) => setImmediate(resolve));
          }
        },
        { keepAlive: false, maxBufferedBytes: 256 * 1024 },
      ),
    );
    const { port } = new URL(await start(app));
    const socket = connect(Number(port), '127.0.0.1');
    socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    await until(() => streams.length === 1);
    expect(await streams[0]!.closed).toEqual({ reason: 'slow-client' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(consoleError).not.toHaveBeenCalled();
    socket.destroy();
  });
});
