import { describe, expect, it, vi } from 'vitest';
import { createChannel, createFetchHandler, reject, stopReconnecting, SseError, type EventStream, type Rejection } from '../src/index.js';
import { createWebStreamSink, createEventStream, fetchServerInfo, requestFacts, serveEventStream, serveWebRequest } from '../src/adapter.js';
import { parseChunks } from './parse.js';

async function readEvents(response: Response, count: number) {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  while (parseChunks(chunks).events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return { events: parseChunks(chunks).events, reader };
}

describe('createFetchHandler (Web Streams sink)', () => {
  it('answers with the event-stream headers and streams events', async () => {
    const handler = createFetchHandler((stream) => {
      stream.send({ event: 'hello', data: { n: 1 } });
      stream.send('two');
    });
    const response = await handler(new Request('http://localhost/sse'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('connection')).toBeNull();
    const { events } = await readEvents(response, 2);
    expect(events).toEqual([
      { event: 'hello', data: '{"n":1}', id: undefined },
      { event: undefined, data: 'two', id: undefined },
    ]);
  });

  it('reads Last-Event-ID from the header and from the query', async () => {
    const seen: Array<string | undefined> = [];
    const handler = createFetchHandler((stream) => {
      seen.push(stream.lastEventId);
      stream.close();
    });
    await handler(new Request('http://localhost/sse', { headers: { 'Last-Event-ID': '17' } }));
    await handler(new Request('http://localhost/sse?lastEventId=18'));
    await handler(new Request('http://localhost/sse'));
    expect(seen).toEqual(['17', '18', undefined]);
  });

  it('ends the body when the stream closes', async () => {
    const response = await createFetchHandler((stream) => {
      stream.send('last');
      stream.close();
    })(new Request('http://localhost/'));
    expect(await response.text()).toBe(':\n\ndata: last\n\n'); // the comment at open, then the event
  });

  it('aborts the stream when the body is cancelled', async () => {
    let stream!: EventStream;
    const response = await createFetchHandler((s) => {
      stream = s;
    })(new Request('http://localhost/'));
    await response.body!.cancel();
    expect(stream.signal.aborted).toBe(true);
    await expect(stream.closed).resolves.toEqual({ reason: 'client' });
  });

  it('aborts the stream when the request signal fires', async () => {
    const client = new AbortController();
    let stream!: EventStream;
    await createFetchHandler((s) => {
      stream = s;
    })(new Request('http://localhost/', { signal: client.signal }));
    client.abort();
    await expect(stream.closed).resolves.toEqual({ reason: 'client' });
  });

  it('bounds memory for a consumer that never reads', async () => {
    let stream!: EventStream;
    const response = await createFetchHandler(
      (s) => {
        stream = s;
      },
      { maxBufferedBytes: 256 * 1024, keepAlive: false },
    )(new Request('http://localhost/'));
    const kib = 'x'.repeat(1024);
    let peak = 0;
    for (let n = 0; n < 200_000 && !stream.isClosed; n++) {
      stream.send(kib);
      peak = Math.max(peak, stream.bufferedBytes);
    }
    expect(stream.isClosed).toBe(true);
    expect(peak).toBeLessThanOrEqual(256 * 1024);
    await expect(stream.closed).resolves.toEqual({ reason: 'slow-client' });
    await expect(response.body!.getReader().read()).rejects.toThrow(SseError);
  });

  it('resumes a paused consumer through pull', async () => {
    const sink = createWebStreamSink();
    const stream = createEventStream(sink, { keepAlive: false });
    // The sink holds 64 KiB before it reports backpressure: 100 events of 1 KiB go past it.
    for (let n = 0; n < 100; n++) stream.send('y'.repeat(1024));
    expect(stream.writable).toBe(false);
    const { events } = await readEvents(new Response(sink.readable), 100);
    expect(events).toHaveLength(100);
    expect(stream.writable).toBe(true);
  });
});

describe('serveEventStream: guards and handler errors', () => {
  const request = (init?: RequestInit) => new Request('http://localhost/sse', init);

  it('answers 403 when authorize returns false, before any stream header', async () => {
    const handler = vi.fn();
    const response = await createFetchHandler(handler, { authorize: () => false })(request());
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(handler).not.toHaveBeenCalled();
  });

  it('passes a rejection through: 401, 429 with Retry-After, 204', async () => {
    const verdicts: Rejection[] = [reject(401, { body: 'token required' }), reject(429, { retryAfter: 30 }), stopReconnecting()];
    const responses = await Promise.all(verdicts.map((verdict) => createFetchHandler(() => undefined, { authorize: async () => verdict })(request())));
    expect(responses.map((r) => r.status)).toEqual([401, 429, 204]);
    expect(await responses[0]!.text()).toBe('token required');
    expect(responses[1]!.headers.get('retry-after')).toBe('30');
    expect(await responses[2]!.text()).toBe('');
  });

  it('opens the stream only when authorize returns true, with the request', async () => {
    const seen: Request[] = [];
    const handler = createFetchHandler((stream) => stream.close(), {
      authorize: (req) => {
        seen.push(req);
        return req.headers.get('authorization') === 'Bearer ok';
      },
    });
    expect((await handler(request({ headers: { authorization: 'Bearer ok' } }))).status).toBe(200);
    expect((await handler(request())).status).toBe(403);
    expect(seen).toHaveLength(2);
  });

  it('refuses a rejection with a status that would open a stream', () => {
    expect(() => reject(200)).toThrow(SseError);
    expect(() => reject(99)).toThrow(SseError);
    expect(() => reject(429, { retryAfter: -1 })).toThrow(SseError);
  });

  it('reports a rejected handler to onError and closes the stream, never a 500', async () => {
    const onError = vi.fn();
    let stream!: EventStream;
    let fail!: () => void;
    const failing = new Promise<void>((resolve) => (fail = resolve));
    const response = await createFetchHandler(
      async (s) => {
        stream = s;
        s.send('before');
        await failing;
        throw new Error('handler failed');
      },
      { onError },
    )(request());
    expect(response.status).toBe(200);
    // What the client gets: the event sent before the failure, then a body cut short (an error,
    // not a clean end, so an EventSource reconnects as after a dropped connection), nothing more.
    const { events, reader } = await readEvents(response, 1);
    expect(events).toEqual([{ id: undefined, event: undefined, data: 'before' }]);
    fail();
    const rest: Uint8Array[] = [];
    let ending: unknown = 'a clean end';
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) rest.push(read.value);
    } catch (error) {
      ending = error;
    }
    expect(rest).toEqual([]);
    expect(ending).toMatchObject({ code: 'ERR_SSE_ABORTED' });
    const info = await stream.closed;
    expect(info.reason).toBe('error');
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'handler failed' }), expect.any(Request));
  });

  it('reports a synchronous throw the same way, and the default reporter logs', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let stream!: EventStream;
    await createFetchHandler((s) => {
      stream = s;
      throw new Error('sync failure');
    })(request());
    expect((await stream.closed).reason).toBe('error');
    expect(log).toHaveBeenCalled();
  });

  it('lets an error from authorize reach the caller (no stream was opened)', async () => {
    await expect(createFetchHandler(() => undefined, { authorize: () => { throw new Error('auth backend down'); } })(request())).rejects.toThrow('auth backend down');
  });

  it('runs any sink through the same flow', async () => {
    const rejections: Rejection[] = [];
    const stream = await serveEventStream({
      request: requestFacts({ url: '/x', headers: { 'last-event-id': 'abc' } }),
      createSink: () => createWebStreamSink(),
      respond: (r) => void rejections.push(r),
      args: ['extra-arg'] as [string],
      handler: (s, arg) => {
        expect(arg).toBe('extra-arg');
        s.close();
      },
    });
    expect(stream?.lastEventId).toBe('abc');
    expect(rejections).toEqual([]);
  });

  it('caps Last-Event-ID by maxLastEventIdLength', async () => {
    let seen: string | undefined = 'unset';
    await createFetchHandler((s) => {
      seen = s.lastEventId;
      s.close();
    }, { maxLastEventIdLength: 4 })(request({ headers: { 'last-event-id': '12345' } }));
    expect(seen).toBeUndefined();
  });

  it('feeds a channel from a Fetch handler', async () => {
    const channel = createChannel({ history: 10 });
    const handler = createFetchHandler((stream) => void channel.subscribe(stream));
    const response = await handler(request());
    await channel.broadcast({ event: 'x', data: 1 });
    const { events, reader } = await readEvents(response, 1);
    expect(events[0]).toMatchObject({ event: 'x', data: '1' });
    await reader.cancel();
    expect(channel.size).toBe(0);
  });
});

describe('serveWebRequest with a runtime that can cut connections', () => {
  it('uses the runtime abort once the response was handed over', async () => {
    const runtimeAbort = vi.fn();
    let stream!: EventStream;
    await serveWebRequest({
      request: new Request('http://x/'),
      args: [],
      handler: (s) => void (stream = s),
      options: { maxBufferedBytes: 1024, keepAlive: false },
      runtime: { abort: runtimeAbort },
    });
    while (!stream.isClosed) stream.send('x'.repeat(512));
    expect((await stream.closed).reason).toBe('slow-client');
    expect(runtimeAbort).toHaveBeenCalledTimes(1);
  });

  it('ends the body cleanly when the stream fails before the response was handed over', async () => {
    const runtimeAbort = vi.fn();
    const onError = vi.fn();
    const response = await serveWebRequest({
      request: new Request('http://x/'),
      args: [],
      handler: (s) => {
        s.send('first');
        throw new Error('early failure');
      },
      options: { onError },
      runtime: { abort: runtimeAbort, clientAddress: '10.0.0.1' },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(':\n\ndata: first\n\n'); // the comment at open, then the event
    expect(runtimeAbort).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledTimes(1);
  });
});

describe('serveWebRequest: runtime.clientSignal', () => {
  /** A request whose signal must not be read (as @hono/node-server's, which builds an AbortController when it is). */
  function unreadSignalRequest(): Request {
    const request = new Request('http://x/');
    Object.defineProperty(request, 'signal', {
      get() {
        throw new Error('request.signal was read');
      },
    });
    return request;
  }

  it('null: request.signal is never read, and the body being cancelled closes the stream with reason client', async () => {
    let stream!: EventStream;
    const response = await serveWebRequest({ request: unreadSignalRequest(), args: [], handler: (s) => void (stream = s), options: { keepAlive: false }, runtime: { clientSignal: null } });
    expect(stream.isClosed).toBe(false);
    await response.body!.cancel();
    await expect(stream.closed).resolves.toEqual({ reason: 'client' });
  });

  it('a signal given instead of request.signal closes the stream with reason client when it fires', async () => {
    const connection = new AbortController();
    let stream!: EventStream;
    await serveWebRequest({ request: unreadSignalRequest(), args: [], handler: (s) => void (stream = s), options: { keepAlive: false }, runtime: { clientSignal: connection.signal } });
    connection.abort();
    await expect(stream.closed).resolves.toEqual({ reason: 'client' });
    expect(stream.signal.aborted).toBe(true);
  });
});

// The real servers are in tests/runtimes (test/idle.test.ts: a quiet stream outlives Bun's
// idleTimeout); these are the shapes the second argument of a fetch handler takes.
describe('fetchServerInfo', () => {
  const request = new Request('http://localhost/sse');

  it("reads Bun's Server: the client address, and keepOpen lifts the idle timeout of this request", () => {
    const timeouts: Array<[Request, number]> = [];
    const server = {
      timeout: (r: Request, seconds: number) => void timeouts.push([r, seconds]),
      requestIP: () => ({ address: '10.0.0.7', family: 'IPv4', port: 1234 }),
      upgrade: () => false,
    };
    const info = fetchServerInfo(request, server);
    expect(info.clientAddress).toBe('10.0.0.7');
    expect(timeouts).toEqual([]);
    info.keepOpen?.();
    expect(timeouts).toEqual([[request, 0]]);
  });

  it("reads Deno's ServeHandlerInfo, and nothing from a Workers env or no argument", () => {
    expect(fetchServerInfo(request, { remoteAddr: { transport: 'tcp', hostname: '127.0.0.1', port: 4 } })).toEqual({ clientAddress: '127.0.0.1' });
    expect(fetchServerInfo(request, { KV: {}, timeout: 'not a server' })).toEqual({});
    expect(fetchServerInfo(request, undefined)).toEqual({});
  });

  it('createFetchHandler lifts the idle timeout only for a stream that opens', async () => {
    const timeouts: number[] = [];
    const server = { timeout: (_: Request, seconds: number) => void timeouts.push(seconds), requestIP: () => null, upgrade: () => false };
    const handler = createFetchHandler((stream) => stream.close(), { authorize: (r) => new URL(r.url).pathname !== '/refused' });
    expect((await handler(new Request('http://localhost/refused'), server)).status).toBe(403);
    expect((await handler(new Request('http://localhost/sse', { method: 'HEAD' }), server)).status).toBe(200);
    expect(timeouts).toEqual([]);
    const response = await handler(new Request('http://localhost/sse'), server);
    expect(response.status).toBe(200);
    expect(timeouts).toEqual([0]);
    await response.body?.cancel();
  });
});

describe('createWebStreamSink: bypass (a runtime that writes to the connection itself)', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
  const writer = () => {
    const written: string[] = [];
    let drain: (() => void) | undefined;
    const bypass = {
      full: false,
      released: 0,
      write: (chunk: Uint8Array) => (written.push(new TextDecoder().decode(chunk)), !bypass.full),
      onDrain: (listener: () => void) => void (drain = listener),
      release: () => void bypass.released++,
    };
    return { bypass, written, drain: () => drain?.() };
  };

  it('refuses while the body holds unread chunks, then takes every write; close ends the body and releases the writer', async () => {
    const sink = createWebStreamSink();
    sink.open(200, {});
    const first = bytes(': open\n\n');
    sink.write(first);
    expect(sink.lastChunk).toBe(first);
    const { bypass, written } = writer();
    expect(sink.bypass(bypass)).toBe(false);
    const reader = sink.readable.getReader();
    expect((await reader.read()).value).toBe(first);
    expect(sink.bypass(bypass)).toBe(true);
    expect(sink.bypass(writer().bypass)).toBe(false);
    expect(sink.write(bytes('data: a\n\n'))).toBe(true);
    expect(written).toEqual(['data: a\n\n']);
    expect(sink.lastChunk).toBe(first);
    const end = reader.read();
    void sink.close();
    expect((await end).done).toBe(true);
    expect(bypass.released).toBe(1);
    expect(sink.write(bytes('data: late\n\n'))).toBe(false);
    expect(written).toEqual(['data: a\n\n']);
  });

  it("the writer's drain is the stream's: a full connection queues events until it drains", async () => {
    const sink = createWebStreamSink();
    const stream = createEventStream(sink, { keepAlive: false });
    const reader = sink.readable.getReader();
    await reader.read();
    const { bypass, written, drain } = writer();
    expect(sink.bypass(bypass)).toBe(true);
    bypass.full = true;
    stream.send('one');
    stream.send('two');
    expect(written).toEqual(['data: one\n\n']);
    bypass.full = false;
    drain();
    expect(written).toEqual(['data: one\n\n', 'data: two\n\n']);
    stream.close();
  });

  /** A writer that also takes the response's end over (`end` and `onGone`). */
  const endingWriter = () => {
    const base = writer();
    let gone: (() => void) | undefined;
    const bypass = Object.assign(base.bypass, { ended: 0, end: () => void bypass.ended++, onGone: (listener: () => void) => void (gone = listener) });
    return { ...base, bypass, gone: () => gone?.() };
  };

  it('a writer with end and onGone takes the end over: the body ends at once, the stream goes on, and closing it ends through the writer', async () => {
    const sink = createWebStreamSink();
    const stream = createEventStream(sink, { keepAlive: false });
    const body = sink.readable;
    const reader = body.getReader();
    await reader.read();
    const { bypass, written } = endingWriter();
    expect(sink.bypass(bypass)).toBe(true);
    // The server's read of the body finishes now, while the stream stays open.
    expect((await reader.read()).done).toBe(true);
    expect(sink.readable).not.toBe(body);
    expect(sink.lastChunk).toBeUndefined();
    expect((await sink.readable.getReader().read()).done).toBe(true);
    stream.send('after');
    expect(written).toEqual(['data: after\n\n']);
    expect(stream.isClosed).toBe(false);
    stream.close();
    await stream.closed;
    expect([bypass.ended, bypass.released]).toEqual([1, 1]);
    expect(sink.write(bytes('data: late\n\n'))).toBe(false);
  });

  it("once the writer took the end over, the connection's close is the client leaving; an abort with no way to cut ends through the writer", async () => {
    const sink = createWebStreamSink();
    const stream = createEventStream(sink, { keepAlive: false });
    await sink.readable.getReader().read();
    const { bypass, gone } = endingWriter();
    expect(sink.bypass(bypass)).toBe(true);
    gone();
    expect(await stream.closed).toEqual({ reason: 'client' });
    expect(bypass.ended).toBe(0);

    const aborted = createWebStreamSink();
    aborted.open(200, {});
    aborted.write(bytes(': open\n\n'));
    await aborted.readable.getReader().read();
    const second = endingWriter();
    expect(aborted.bypass(second.bypass)).toBe(true);
    aborted.abort();
    second.gone();
    expect([second.bypass.ended, second.bypass.released]).toEqual([1, 1]);
  });

  it('serveWebRequest hands the sink of an opened stream to runtime.attach, and not for a HEAD or a rejection', async () => {
    const attached: unknown[] = [];
    const runtime = { attach: (sink: unknown) => void attached.push(sink) };
    const handler = (stream: EventStream) => void stream.close();
    await serveWebRequest({ request: new Request('http://x/events'), args: [], handler, runtime });
    expect(attached).toHaveLength(1);
    await serveWebRequest({ request: new Request('http://x/events', { method: 'HEAD' }), args: [], handler, runtime });
    await serveWebRequest({ request: new Request('http://x/events'), args: [], handler, runtime, options: { authorize: () => false } });
    expect(attached).toHaveLength(1);
  });
});
