// createClient over real sockets: @sse/node servers on 127.0.0.1 port 0, Node's own fetch.
// Backoff is asserted by the delays the client chose (a fixed random source), never by time.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTopicHub, gapEvent, sse, type TopicHub } from '@sse/node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, SseClientError, type ClientItem, type RetryInfo } from '../src/index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A bounded wait: fails after 10 s saying what it saw, never a budget. */
const until = (condition: () => boolean): Promise<void> => vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on 127.0.0.1 port 0 whose behaviour per request is `handle` (changeable); it records every request. */
async function serve(handle: Handler) {
  const requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const state = { handle };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      state.handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url, requests, state, server };
}

const plain = (status: number, body = '', headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
};

/** A stream that sends `events` and ends cleanly: the client reconnects. */
const streamThenEnd = (events: Array<Record<string, unknown>>, options: Parameters<typeof sse>[1] = {}): Handler =>
  sse(
    (stream) => {
      for (const event of events) stream.send(event as never);
      stream.close();
    },
    { keepAlive: false, ...options },
  ) as Handler;

type Events = { greeting: { text: string }; count: number; message: string };

function track(client: { closed: Promise<unknown>; close(): void }): void {
  cleanups.push(async () => {
    client.close();
    await client.closed;
  });
}

describe('createClient: events and reconnects', () => {
  it('delivers typed events, sends Last-Event-ID on reconnect, and calls headers per attempt (a refreshed token)', async () => {
    const { url, requests, state } = await serve(streamThenEnd([{ event: 'greeting', data: { text: 'hi' }, id: 'g1' }, { event: 'count', data: 7 }, { data: 'plain text' }]));
    const tokens: string[] = [];
    const client = createClient<Events>(url, {
      initialRetryMs: 1,
      random: () => 0,
      headers: ({ attempt }) => {
        tokens.push(`token-${attempt}`);
        return { authorization: `Bearer token-${attempt}` };
      },
    });
    track(client);
    const seen: unknown[] = [];
    client.on('greeting', (data, event) => seen.push(['greeting', data.text, event.id]));
    client.on('count', (data) => seen.push(['count', data + 1]));
    client.on('message', (data, event) => seen.push(['message', data, event.text]));
    await until(() => requests.length >= 2);
    state.handle = plain(204);
    await client.closed;
    expect(seen.slice(0, 3)).toEqual([['greeting', 'hi', 'g1'], ['count', 8], ['message', 'plain text', 'plain text']]);
    expect(requests[0]?.headers['last-event-id']).toBeUndefined();
    expect(requests.slice(1).every((request) => request.headers['last-event-id'] === 'g1')).toBe(true);
    expect(requests.map((request) => request.headers.authorization)).toEqual(tokens.map((token) => `Bearer ${token}`));
    expect(new Set(tokens).size).toBe(requests.length);
    expect(requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('POSTs a body built per attempt, and uses the fetch it is given', async () => {
    const { url, requests, state } = await serve(streamThenEnd([{ data: 'x', id: '1' }]));
    let fetches = 0;
    const credentials: unknown[] = [];
    const client = createClient(url, {
      method: 'POST',
      body: ({ attempt, lastEventId }) => JSON.stringify({ attempt, lastEventId }),
      headers: { 'content-type': 'application/json' },
      credentials: 'include',
      fetch: (input, init) => {
        fetches++;
        credentials.push(init?.credentials);
        return fetch(input, init);
      },
      initialRetryMs: 1,
    });
    track(client);
    await until(() => requests.length >= 2);
    state.handle = plain(204);
    await client.closed;
    expect(requests[0]).toMatchObject({ method: 'POST', body: '{"attempt":0,"lastEventId":""}' });
    expect(requests[1]).toMatchObject({ method: 'POST', body: '{"attempt":1,"lastEventId":"1"}' });
    expect(fetches).toBe(requests.length);
    expect(new Set(credentials)).toEqual(new Set(['include']));
  });

  it('stops for good on 204, with no further attempt', async () => {
    const { url, requests } = await serve(plain(204));
    const client = createClient(url, { initialRetryMs: 1 });
    const info = await client.closed;
    expect(info).toMatchObject({ reason: 'no-content', status: 204 });
    expect(client.state).toBe('closed');
    expect(requests).toHaveLength(1);
    // The iterator of a client stopped by 204 ends without an error.
    const items: unknown[] = [];
    for await (const item of client) items.push(item);
    expect(items).toEqual([]);
  });

  it('stops on 401 (and any status it does not retry) with the status and body exposed; the iterator throws them', async () => {
    const { url, requests, state } = await serve(plain(401, 'the token is not valid', { 'www-authenticate': 'Bearer' }));
    const client = createClient(url, { initialRetryMs: 1 });
    const info = await client.closed;
    expect(info).toMatchObject({ reason: 'status', status: 401, body: 'the token is not valid' });
    expect(info.headers?.get('www-authenticate')).toBe('Bearer');
    expect(info.error).toBeInstanceOf(SseClientError);
    expect(info.error).toMatchObject({ code: 'ERR_SSE_CLIENT_STATUS', status: 401, body: 'the token is not valid' });
    expect(requests).toHaveLength(1);
    await expect((async () => {
      for await (const _ of client);
    })()).rejects.toMatchObject({ code: 'ERR_SSE_CLIENT_STATUS', status: 401 });

    for (const status of [400, 403, 404, 410]) {
      state.handle = plain(status, `no (${status})`);
      const other = await createClient(url, { initialRetryMs: 1 }).closed;
      expect(other).toMatchObject({ reason: 'status', status, body: `no (${status})` });
    }
    expect(requests).toHaveLength(5);
  });

  it('reads at most 64 KiB of a refusal\'s body', async () => {
    const { url } = await serve(plain(403, 'x'.repeat(200_000)));
    const info = await createClient(url).closed;
    expect(info).toMatchObject({ reason: 'status', status: 403 });
    expect(info.body).toBe('x'.repeat(65_536));
  });

  it('stops on a 200 that is not text/event-stream', async () => {
    const { url } = await serve(plain(200, '<html>'));
    const info = await createClient(url).closed;
    expect(info).toMatchObject({ reason: 'content-type', status: 200, body: '<html>', error: { code: 'ERR_SSE_CLIENT_CONTENT_TYPE' } });
  });

  it('retries 5xx with exponential backoff, capped by maxRetryMs, then by the server\'s retry once it sent one', async () => {
    const { url, requests, state } = await serve(plain(503, 'busy'));
    const retries: RetryInfo[] = [];
    const client = createClient(url, { initialRetryMs: 4, maxRetryMs: 20, random: () => 1, onRetry: (info) => retries.push(info) });
    track(client);
    await until(() => retries.length >= 6);
    expect(retries.slice(0, 6).map((info) => info.delayMs)).toEqual([4, 8, 16, 20, 20, 20]);
    expect(retries.slice(0, 6).map((info) => [info.attempt, info.failures, info.cause, info.status])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [n, n, 'status', 503]),
    );
    // A stream that opens and sends retry: 10, then 500s: the backoff starts again, capped by the server's 10.
    state.handle = streamThenEnd([{ retry: 10, data: 'x' }]);
    await until(() => retries.some((info) => info.cause === 'ended'));
    state.handle = plain(500);
    const from = retries.length;
    await until(() => retries.length >= from + 4);
    expect(client.serverRetryMs).toBe(10);
    const ended = retries.findIndex((info) => info.cause === 'ended');
    expect(retries[ended]).toMatchObject({ failures: 1, delayMs: 4 });
    expect(retries.slice(ended + 1, ended + 5).map((info) => info.delayMs)).toEqual([8, 10, 10, 10]);
    expect(retries.every((info) => info.delayMs <= 20)).toBe(true);
    // A stream that only says retry and ends (a server's "come back later") is no success: the backoff keeps growing.
    state.handle = streamThenEnd([{ retry: 10 }]);
    const before = retries.length;
    await until(() => retries.length >= before + 3);
    expect(retries.slice(before, before + 3).map((info) => [info.cause, info.delayMs])).toEqual([['ended', 10], ['ended', 10], ['ended', 10]]);
    expect(retries[before]!.failures).toBeGreaterThan(retries[before - 1]!.failures);
    expect(requests.length).toBeGreaterThan(10);
  });

  it('spreads delays by the random source: base / 2 + random() * base / 2', async () => {
    const { url } = await serve(plain(502));
    const delays: number[] = [];
    const values = [0, 0.5, 0.999];
    const client = createClient(url, { initialRetryMs: 8, maxRetryMs: 8, random: () => values[delays.length % 3]!, onRetry: (info) => delays.push(info.delayMs) });
    track(client);
    await until(() => delays.length >= 3);
    expect(delays.slice(0, 3)).toEqual([4, 6, 8]);
  });

  it('honours Retry-After on 429/503 (at least that long)', async () => {
    const { url, state } = await serve(plain(429, 'slow down', { 'retry-after': '1' }));
    const retries: RetryInfo[] = [];
    const previous: unknown[] = [];
    const client = createClient(url, {
      initialRetryMs: 2,
      random: () => 0,
      onRetry: (info) => retries.push(info),
      headers: ({ previousStatus }) => {
        previous.push(previousStatus);
        return {};
      },
    });
    track(client);
    await until(() => retries.length >= 1);
    state.handle = plain(204);
    await client.closed;
    expect(retries[0]).toMatchObject({ cause: 'status', status: 429, delayMs: 1000 });
    // The headers function sees why the previous attempt failed (a 401 would be the cue to refresh a token).
    expect(previous).toEqual([undefined, 429]);
  });

  it('retries network errors and stops after maxRetries consecutive failures', async () => {
    const { url, server } = await serve(plain(204));
    await new Promise<void>((resolve) => server.close(() => resolve())); // nothing listens on the port now
    const retries: RetryInfo[] = [];
    const info = await createClient(url, { initialRetryMs: 1, maxRetries: 2, onRetry: (retry) => retries.push(retry) }).closed;
    expect(retries.map((retry) => [retry.attempt, retry.cause])).toEqual([[1, 'network'], [2, 'network']]);
    expect(info).toMatchObject({ reason: 'retries', error: { code: 'ERR_SSE_CLIENT_RETRIES' } });
    expect(info.error?.cause).toBeInstanceOf(Error);
  });

  it('a connection cut mid-stream, then a server restart on the same port: the client resumes from the last id it got', async () => {
    const first = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 20\nid: 7\ndata: before\n\n');
    });
    const port = new URL(first.url).port;
    const retries: RetryInfo[] = [];
    const client = createClient(first.url, { random: () => 1, onRetry: (info) => retries.push(info) });
    track(client);
    const received: unknown[] = [];
    client.on('message', (data) => received.push(data));
    await until(() => received.length === 1);
    // The server goes away: open connections are cut, then nothing listens.
    first.server.closeAllConnections();
    await new Promise<void>((resolve) => first.server.close(() => resolve()));
    await until(() => retries.length >= 2);
    expect(retries[0]).toMatchObject({ cause: 'network', failures: 1 });

    const lastEventIds: Array<string | undefined> = [];
    const second = createServer((req, res) => {
      lastEventIds.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 8\ndata: after\n\n');
    });
    await new Promise<void>((resolve) => second.listen(Number(port), '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      second.closeAllConnections();
      second.close(() => resolve());
    }));
    await until(() => received.length === 2);
    expect(received).toEqual(['before', 'after']);
    expect(lastEventIds).toEqual(['7']);
    // Capped by the server's retry (20) while it was gone.
    expect(retries.every((info) => info.delayMs <= 20)).toBe(true);
  });

  it('an AbortSignal stops the client and closes its connection: the server sees it leave', async () => {
    let left = 0;
    const { url, requests } = await serve(
      sse(
        (stream) => {
          stream.send({ data: 'hello' });
          void stream.closed.then(() => left++);
        },
        { keepAlive: false },
      ) as Handler,
    );
    const controller = new AbortController();
    const client = createClient(url, { signal: controller.signal });
    const received: unknown[] = [];
    client.on('message', (data) => received.push(data));
    await until(() => received.length === 1 && client.state === 'open');
    controller.abort();
    expect(await client.closed).toEqual({ reason: 'aborted' });
    await until(() => left === 1);
    expect(requests).toHaveLength(1);
    // An aborted signal: no request at all.
    expect(await createClient(url, { signal: AbortSignal.abort() }).closed).toEqual({ reason: 'aborted' });
    expect(requests).toHaveLength(1);
  });

  it('async iteration yields every event in order; break stops the client and closes the connection', async () => {
    let left = 0;
    const { url } = await serve(
      sse(
        (stream) => {
          for (let i = 1; i <= 5; i++) stream.send({ event: 'count', data: i, id: String(i) });
          void stream.closed.then(() => left++);
        },
        { keepAlive: false },
      ) as Handler,
    );
    const client = createClient<Events>(url);
    const items: Array<ClientItem<Events>> = [];
    for await (const item of client) {
      items.push(item);
      if (items.length === 3) break;
    }
    expect(items.map((item) => item.kind === 'event' && item.type === 'count' && [item.data, item.id])).toEqual([[1, '1'], [2, '2'], [3, '3']]);
    expect((await client.closed).reason).toBe('closed');
    await until(() => left === 1);
  });

  it('a for await loop slower than the stream: the client stops reading at 1,000 waiting items (TCP pushes back on the server) and loses nothing', async () => {
    const total = 40_000;
    const payload = 'x'.repeat(1_000);
    // A raw writer that honours backpressure, so that how far it got is what the client took.
    const writer = { written: 0, waiting: false, bytesWritten: 0 };
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const more = (): void => {
        writer.waiting = false;
        while (writer.written < total) {
          const ok = res.write(`id: ${writer.written}\ndata: ${payload}\n\n`);
          writer.written++;
          writer.bytesWritten = res.socket?.bytesWritten ?? 0;
          if (!ok) {
            writer.waiting = true;
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    const client = createClient(url, { maxRetries: 0 });
    track(client);
    let dispatched = 0;
    client.on('message', () => dispatched++);
    const iterator = client[Symbol.asyncIterator]();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { value } = await iterator.next();
      if (value?.kind === 'event') ids.push(value.id);
    }
    // The loop now stalls. Wait, a bounded number of polls, until the client has stopped taking
    // events (the same count for 25 polls) while the server waits for its socket or is done.
    let stable = 0;
    let last = -1;
    for (let poll = 0; poll < 2_000 && stable < 25; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      stable = dispatched === last && (writer.waiting || writer.written === total) ? stable + 1 : 0;
      last = dispatched;
    }
    expect(stable).toBe(25);
    // 1,000 waiting plus the 10 taken, and at most one chunk of the body beyond (64 KiB: 65 events).
    expect(dispatched).toBeGreaterThanOrEqual(1_000);
    expect(dispatched).toBeLessThan(1_100);
    expect(writer.written).toBeLessThan(total);
    // The loop goes on: every event arrives, in order, none twice.
    for (;;) {
      const { value, done } = await iterator.next();
      if (done === true) break;
      if (value.kind === 'event') ids.push(value.id);
      if (ids.length === total) break;
    }
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    expect(dispatched).toBe(total);
  });

  it('a listener that closes the client gets no further event, even from the same chunk, and the id stays at the last one delivered', async () => {
    const { url } = await serve(streamThenEnd([{ data: 'a', id: '1' }, { data: 'b', id: '2' }, { data: 'c', id: '3' }]));
    const client = createClient(url);
    const received: unknown[] = [];
    client.on('message', (data) => {
      received.push(data);
      if (data === 'b') client.close();
    });
    await client.closed;
    expect(received).toEqual(['a', 'b']);
    expect(client.lastEventId).toBe('2');
  });

  it('reports a listener that throws without losing the stream', async () => {
    const { url, state } = await serve(streamThenEnd([{ data: 'a' }, { data: 'b' }]));
    const reported: unknown[] = [];
    const onError = (error: unknown): void => void reported.push(error);
    process.on('uncaughtException', onError);
    cleanups.push(() => process.off('uncaughtException', onError));
    const client = createClient(url, { initialRetryMs: 1000 });
    track(client);
    const received: unknown[] = [];
    client.on('message', (data) => {
      received.push(data);
      throw new Error(`listener failed on ${String(data)}`);
    });
    await until(() => received.length === 2 && reported.length === 2);
    state.handle = plain(204);
    expect(received).toEqual(['a', 'b']);
  });

  it('reads data with the parse option, and stops with ERR_SSE_CLIENT_REQUEST when the headers function throws', async () => {
    const { url, requests, state } = await serve(streamThenEnd([{ event: 'count', data: 41 }]));
    const client = createClient<{ count: string }>(url, { parse: (text, type) => `${type}=${text}`, initialRetryMs: 1000 });
    track(client);
    const received: string[] = [];
    client.on('count', (data) => received.push(data));
    await until(() => received.length === 1);
    expect(received).toEqual(['count=41']);
    state.handle = plain(204);
    const failing = await createClient(url, {
      headers: () => {
        throw new Error('no token');
      },
    }).closed;
    expect(failing).toMatchObject({ reason: 'request', error: { code: 'ERR_SSE_CLIENT_REQUEST' } });
    expect(requests).toHaveLength(1);
  });

  it('rejects bad options at once', () => {
    expect(() => createClient('http://127.0.0.1:1/', { initialRetryMs: -1 })).toThrow(/initialRetryMs/);
    expect(() => createClient('http://127.0.0.1:1/', { maxRetryMs: Number.NaN })).toThrow(/maxRetryMs/);
    expect(() => createClient('relative/path')).toThrow(TypeError);
  });
});

describe('createClient: gaps and topics', () => {
  it("surfaces a channel's gap signal (no topics) on onGap and in the iterator, under a custom name too", async () => {
    const { url } = await serve(
      sse((stream) => {
        stream.send(gapEvent({ reason: 'unknown-id', lastEventId: '5' }));
        stream.send({ event: 'my-gap', data: { reason: 'trimmed' } });
        stream.close();
      }, { keepAlive: false }) as Handler,
    );
    const gaps: unknown[] = [];
    const client = createClient(url, { initialRetryMs: 60_000 });
    track(client);
    client.onGap((gap) => gaps.push(gap));
    const custom = createClient(url, { gapEvent: 'my-gap', initialRetryMs: 60_000 });
    track(custom);
    const customGaps: unknown[] = [];
    custom.onGap((gap) => customGaps.push(gap));
    await until(() => gaps.length === 1 && customGaps.length === 1);
    expect(gaps).toEqual([{ reason: 'unknown-id', lastEventId: '5', id: '' }]);
    expect(customGaps).toEqual([{ reason: 'trimmed', id: '' }]);
  });

  type Topics = { 'room:*': { message: { text: string } }; 'user:*': { notification: { n: number } } };
  type StreamEvents = { welcome: { topics: string[] } };

  async function serveHub(hub: TopicHub<Topics>) {
    const current = { hub };
    const handlers = new WeakMap<TopicHub<Topics>, Handler>();
    const handlerOf = (each: TopicHub<Topics>): Handler => {
      let handler = handlers.get(each);
      if (handler === undefined) {
        handler = sse((stream) => void stream.send({ event: 'welcome', data: { topics: each.topicsOf(stream) } }), {
          keepAlive: false,
          topics: { hub: each, from: (req) => new URL(req.url ?? '/', 'http://localhost').searchParams.get('t')?.split(','), authorize: () => true },
        }) as Handler;
        handlers.set(each, handler);
      }
      return handler;
    };
    const served = await serve((req, res) => handlerOf(current.hub)(req, res));
    return { ...served, current };
  }

  it('subscribes to topics on one connection, resumes every topic from its position, and reports a gap per topic', async () => {
    const hub = createTopicHub<Topics>({ historyLimit: 1 });
    cleanups.push(() => hub.close());
    const { url, requests } = await serveHub(hub);
    const first = createClient<StreamEvents, Topics>(url, { topics: ['room:a', 'room:b'], topicsParam: 't' });
    track(first);
    const seen: string[] = [];
    first.onTopic('message', (data, event) => seen.push(`${event.topic}:${data.text}`));
    const welcomes: string[][] = [];
    first.on('welcome', (data) => welcomes.push(data.topics));
    await until(() => welcomes.length === 1);
    await hub.publish('room:a', { event: 'message', data: { text: 'a1' } });
    await hub.publish('room:b', { event: 'message', data: { text: 'b1' } });
    await until(() => seen.length === 2);
    expect(seen).toEqual(['room:a:a1', 'room:b:b1']);
    expect(requests[0]!.url).toBe('/events?t=room%3Aa,room%3Ab');
    first.close();
    await first.closed;

    // Missed while away: two on room:a (the history keeps one: a gap), one on room:b (resumed).
    await hub.publish('room:a', { event: 'message', data: { text: 'a2' } });
    await hub.publish('room:a', { event: 'message', data: { text: 'a3' } });
    await hub.publish('room:b', { event: 'message', data: { text: 'b2' } });
    const second = createClient<StreamEvents, Topics>(url, { topics: ['room:a', 'room:b'], topicsParam: 't', lastEventId: first.lastEventId });
    track(second);
    const items: Array<ClientItem<StreamEvents, Topics>> = [];
    const iterating = (async () => {
      for await (const item of second) items.push(item);
    })();
    await until(() => items.some((item) => item.kind === 'event'));
    expect(requests[1]?.headers['last-event-id']).toBe(first.lastEventId);
    expect(items.map((item) => (item.kind === 'gap' ? `gap:${item.gap.reason}:${item.gap.topics?.join()}` : item.kind === 'topic' && item.type === 'message' ? `${item.topic}:${item.data.text}` : item.type))).toEqual([
      'gap:trimmed:room:a',
      'room:b:b2',
      'welcome',
    ]);

    // setTopics reconnects now with the new list and the position: held topics resume, the new one starts.
    const position = second.lastEventId;
    second.setTopics(['room:a', 'room:b', 'user:1']);
    await until(() => items.filter((item) => item.kind === 'event').length === 2);
    expect(requests[2]?.headers['last-event-id']).toBe(position);
    expect(second.topics).toEqual(['room:a', 'room:b', 'user:1']);
    await hub.publish('user:1', { event: 'notification', data: { n: 1 } });
    await hub.publish('room:a', { event: 'message', data: { text: 'a4' } });
    await until(() => items.filter((item) => item.kind === 'topic').length === 3);
    expect(items.slice(4).map((item) => (item.kind === 'topic' ? `${item.topic}:${JSON.stringify(item.data)}` : item.kind))).toEqual([
      'user:1:{"n":1}',
      'room:a:{"text":"a4"}',
    ]);
    expect(items.filter((item) => item.kind === 'gap')).toHaveLength(1);
    second.close();
    await iterating;
  });

  it('after the hub lost its history (a restart), every topic of the position gets its gap', async () => {
    const before = createTopicHub<Topics>();
    const after = createTopicHub<Topics>();
    cleanups.push(() => before.close(), () => after.close());
    const { url, current } = await serveHub(before);
    const client = createClient<StreamEvents, Topics>(url, { topics: ['room:a', 'user:7'], topicsParam: 't', initialRetryMs: 1 });
    track(client);
    const gaps: Array<{ reason: string; topics: string[] | undefined }> = [];
    client.onGap((gap) => gaps.push({ reason: gap.reason, topics: gap.topics }));
    const seen: string[] = [];
    client.onTopic('message', (data) => seen.push(data.text));
    const welcomes: string[][] = [];
    client.on('welcome', (data) => welcomes.push(data.topics));
    await until(() => welcomes.length === 1);
    await before.publish('room:a', { event: 'message', data: { text: 'before' } });
    await until(() => seen.length === 1);
    current.hub = after;
    client.reconnect();
    await until(() => welcomes.length === 2);
    expect(gaps).toEqual([{ reason: 'reset', topics: ['room:a', 'user:7'] }]);
  });
});
