import { describe, expect, it, vi } from 'vitest';
import { createChannel, createFetchHandler, createMemoryStore, DEFAULT_MAX_EVENT_BYTES, SseError, type ChannelEvent, type ChannelStore, type EventStream } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';

const request = (init?: RequestInit) => new Request('http://localhost/sse', init);
const KIB = 1024;

describe('authorize fails closed', () => {
  it.each([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['0', 0, '0'],
    ["''", '', '""'],
    ['Promise<undefined>', Promise.resolve(undefined), 'undefined'],
    ['an object without a status', { user: 'x' }, 'an object without a numeric status'],
  ])('%s answers 403 and is reported as ERR_SSE_AUTHORIZE_RESULT', async (_name, verdict, said) => {
    const handler = vi.fn();
    const errors: unknown[] = [];
    const serve = createFetchHandler(handler, { authorize: () => verdict as never, onError: (error) => errors.push(error) });
    const response = await serve(request());
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).not.toContain('text/event-stream');
    expect(handler).not.toHaveBeenCalled();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SseError);
    expect((errors[0] as SseError).code).toBe('ERR_SSE_AUTHORIZE_RESULT');
    expect((errors[0] as SseError).message).toContain(`authorize must return true to open the stream, false or a reject(...) to refuse; it returned ${said}`);
  });

  it('without onError the report goes to console.error; false is a plain 403 and reports nothing', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect((await createFetchHandler(() => undefined, { authorize: () => undefined as never })(request())).status).toBe(403);
      expect(logged).toHaveBeenCalledTimes(1);
      expect((logged.mock.calls[0]![1] as SseError).code).toBe('ERR_SSE_AUTHORIZE_RESULT');
      expect((await createFetchHandler(() => undefined, { authorize: () => false })(request())).status).toBe(403);
      expect(logged).toHaveBeenCalledTimes(1);
    } finally {
      logged.mockRestore();
    }
  });

  it('`req.user && req.user.isAdmin` lets no one in without a user', async () => {
    const handler = vi.fn((stream: EventStream) => stream.close());
    const serve = createFetchHandler(handler, {
      authorize: (req) => {
        const user = req.headers.get('x-user') === null ? undefined : { isAdmin: req.headers.get('x-user') === 'admin' };
        return (user && user.isAdmin) as boolean;
      },
      onError: () => undefined,
    });
    expect((await serve(request())).status).toBe(403);
    expect((await serve(request({ headers: { 'x-user': 'guest' } }))).status).toBe(403);
    expect((await serve(request({ headers: { 'x-user': 'admin' } }))).status).toBe(200);
    expect(handler).toHaveBeenCalledTimes(1);
  });
});

describe('hand-made rejections', () => {
  it('are read as reject(status, { headers, body, retryAfter })', async () => {
    const verdicts = [{ status: 401 }, { status: 204 }, { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'token please' }, { status: 429, retryAfter: 7 }];
    const responses = await Promise.all(verdicts.map((verdict) => createFetchHandler(() => undefined, { authorize: () => verdict })(request())));
    expect(responses.map((r) => r.status)).toEqual([401, 204, 401, 429]);
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(['Unauthorized', '', 'token please', 'Too Many Requests']);
    expect(responses[2]!.headers.get('www-authenticate')).toBe('Bearer');
    expect(responses[3]!.headers.get('retry-after')).toBe('7');
  });

  it('one that cannot be answered (status 200, out of range, a body that is not text) throws ERR_SSE_AUTHORIZE_RESULT; no stream opens', async () => {
    for (const verdict of [{ status: 200 }, { status: 99 }, { status: 600 }, { status: 401, body: 42 }]) {
      const handler = vi.fn();
      const failure = await createFetchHandler(handler, { authorize: () => verdict as never })(request()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SseError);
      expect((failure as SseError).code).toBe('ERR_SSE_AUTHORIZE_RESULT');
      expect(handler).not.toHaveBeenCalled();
    }
  });
});

describe('HEAD', () => {
  it('answers 200 with the event-stream headers and no body; authorize runs, the handler does not', async () => {
    const handler = vi.fn();
    let asked = 0;
    const serve = createFetchHandler(handler, { authorize: () => ++asked > 0, headers: { 'X-Feed': 'news' } });
    const response = await serve(request({ method: 'HEAD' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-feed')).toBe('news');
    expect(response.headers.get('connection')).toBeNull();
    expect(response.body).toBeNull();
    expect(asked).toBe(1);
    expect(handler).not.toHaveBeenCalled();
  });

  it('reveals no more than a GET: a refusal of authorize is the answer', async () => {
    const response = await createFetchHandler(() => undefined, { authorize: () => ({ status: 401 }) })(request({ method: 'HEAD' }));
    expect(response.status).toBe(401);
  });
});

describe('maxEventBytes on a stream', () => {
  it('send() and comment() throw ERR_SSE_EVENT_TOO_LARGE past it and write nothing; the stream stays open', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, maxEventBytes: 1 * KIB });
    const atOpen = sink.chunks.length; // the comment a stream writes as it opens
    expect(() => stream.send('x'.repeat(2 * KIB))).toThrow(expect.objectContaining({ code: 'ERR_SSE_EVENT_TOO_LARGE' }));
    // 400 three-byte characters: 1,200 bytes although only 400 UTF-16 units.
    expect(() => stream.send('€'.repeat(400))).toThrow(expect.objectContaining({ code: 'ERR_SSE_EVENT_TOO_LARGE' }));
    expect(() => stream.comment('c'.repeat(2 * KIB))).toThrow(expect.objectContaining({ code: 'ERR_SSE_EVENT_TOO_LARGE' }));
    expect(sink.chunks).toHaveLength(atOpen);
    expect(stream.send('small')).toBe(true);
    expect(parseChunks(sink.chunks).events.map((e) => e.data)).toEqual(['small']);
    expect(stream.isClosed).toBe(false);
  });

  it('defaults to 256 KiB, capped to maxBufferedBytes; a larger explicit value is refused', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    expect(stream.send('x'.repeat(DEFAULT_MAX_EVENT_BYTES - 16))).toBe(true);
    expect(() => stream.send('x'.repeat(DEFAULT_MAX_EVENT_BYTES))).toThrow(expect.objectContaining({ code: 'ERR_SSE_EVENT_TOO_LARGE' }));
    const small = createEventStream(new MemorySink(), { keepAlive: false, maxBufferedBytes: 4 * KIB });
    expect(() => small.send('x'.repeat(5 * KIB))).toThrow(expect.objectContaining({ code: 'ERR_SSE_EVENT_TOO_LARGE' }));
    expect(() => createEventStream(new MemorySink(), { maxBufferedBytes: 4 * KIB, maxEventBytes: 8 * KIB })).toThrow(expect.objectContaining({ code: 'ERR_SSE_OPTION' }));
    expect(() => createEventStream(new MemorySink(), { maxEventBytes: 0 })).toThrow(expect.objectContaining({ code: 'ERR_SSE_OPTION' }));
  });
});

/** A store that delivers what "another instance" published, without any size check. */
function foreignStore(): ChannelStore & { inject(event: ChannelEvent): void } {
  const inner = createMemoryStore({ limit: 100 });
  const listeners = new Set<(event: ChannelEvent) => void>();
  return {
    shared: true,
    publish: (input) => inner.publish(input),
    listen(listener) {
      listeners.add(listener);
      const off = inner.listen(listener);
      return () => {
        listeners.delete(listener);
        off();
      };
    },
    since: (id) => inner.since(id),
    inject(event) {
      for (const listener of listeners) listener(event);
    },
  };
}

describe('maxEventBytes on a channel', () => {
  it('broadcast() rejects a larger event before publishing, and tells onError', async () => {
    const store = createMemoryStore({ limit: 10 });
    const publish = vi.spyOn(store, 'publish');
    const errors: unknown[] = [];
    const channel = createChannel({ store, maxEventBytes: 4 * KIB, onError: (error) => errors.push(error) });
    await expect(channel.broadcast('x'.repeat(5 * KIB))).rejects.toMatchObject({ code: 'ERR_SSE_EVENT_TOO_LARGE' });
    await expect(channel.broadcast({ event: 'e', data: '€'.repeat(1500) })).rejects.toMatchObject({ code: 'ERR_SSE_EVENT_TOO_LARGE' });
    expect(publish).not.toHaveBeenCalled();
    expect(errors).toHaveLength(2);
    await channel.broadcast('fits');
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('a larger event from the store is delivered to nobody, reported once, and later events still flow', () => {
    const store = foreignStore();
    const errors: SseError[] = [];
    const channel = createChannel({ store, maxEventBytes: 4 * KIB, onError: (error) => errors.push(error as SseError) });
    const sinks = [new MemorySink(), new MemorySink()];
    for (const sink of sinks) channel.subscribe(createEventStream(sink, { keepAlive: false }));
    store.inject({ id: 'big-1', data: 'x'.repeat(8 * KIB), json: false });
    store.inject({ id: 'big-2', data: `"${'€'.repeat(2000)}"`, json: true });
    store.inject({ id: 'ok', data: 'after', json: false });
    // Each left-out event is replaced by one in-band gap event naming it; nothing of it is written.
    for (const sink of sinks) {
      expect(parseChunks(sink.chunks).events.map((e) => [e.event, e.id ?? JSON.parse(e.data).lastEventId])).toEqual([
        ['sse-gap', 'big-1'],
        ['sse-gap', 'big-2'],
        [undefined, 'ok'],
      ]);
      expect(sink.text).not.toContain('xxxx');
    }
    expect(errors.map((e) => e.code)).toEqual(['ERR_SSE_EVENT_TOO_LARGE', 'ERR_SSE_EVENT_TOO_LARGE']);
    expect(errors[0]!.message).toContain('big-1');
  });

  it('is not replayed either', () => {
    const store = foreignStore();
    const errors: unknown[] = [];
    const channel = createChannel({ store, maxEventBytes: 4 * KIB, onError: (error) => errors.push(error) });
    const first = store.publish({ id: 'a', data: 'a', json: false }) as ChannelEvent;
    void store.publish({ id: 'huge', data: 'x'.repeat(8 * KIB), json: false });
    void store.publish({ id: 'b', data: 'b', json: false });
    const sink = new MemorySink();
    channel.subscribe(createEventStream(sink, { keepAlive: false, lastEventId: first.id }));
    expect(parseChunks(sink.chunks).events.map((e) => [e.event, e.data])).toEqual([
      ['sse-gap', '{"reason":"too-large","lastEventId":"huge"}'],
      [undefined, 'b'],
    ]);
    expect(errors).toHaveLength(1);
  });

  it('a stream whose own maxEventBytes is lower misses the event and stays open; onError hears it', async () => {
    const errors: SseError[] = [];
    const channel = createChannel({ onError: (error) => errors.push(error as SseError) });
    const small = new MemorySink();
    const large = new MemorySink();
    const smallStream = createEventStream(small, { keepAlive: false, maxEventBytes: 1 * KIB });
    channel.subscribe(smallStream);
    channel.subscribe(createEventStream(large, { keepAlive: false }));
    await channel.broadcast('x'.repeat(2 * KIB));
    await channel.broadcast('y');
    const missed = parseChunks(small.chunks).events;
    expect(missed.map((e) => e.event)).toEqual(['sse-gap', undefined]);
    expect(JSON.parse(missed[0]!.data)).toMatchObject({ reason: 'too-large' });
    expect(missed[1]!.data).toBe('y');
    expect(parseChunks(large.chunks).events).toHaveLength(2);
    expect(smallStream.isClosed).toBe(false);
    expect(errors.map((e) => e.code)).toEqual(['ERR_SSE_EVENT_TOO_LARGE']);
  });
});

describe('pipe() failures', () => {
  it('close the stream with reason error and reach onError once, awaited or not', async () => {
    for (const returned of [false, true]) {
      const errors: unknown[] = [];
      const failure = new Error('source failed');
      let stream: EventStream | undefined;
      async function* source(): AsyncGenerator<string> {
        yield 'one';
        throw failure;
      }
      const response = await createFetchHandler(
        (s) => {
          stream = s;
          const piped = s.pipe(source());
          return returned ? piped : undefined;
        },
        { keepAlive: false, onError: (error) => errors.push(error) },
      )(request());
      expect(await stream!.closed).toEqual({ reason: 'error', error: failure });
      await response.body?.cancel().catch(() => undefined);
      expect(errors).toEqual([failure]);
    }
  });

  it('still reject for a caller who awaits them', async () => {
    const stream = createEventStream(new MemorySink(), { keepAlive: false });
    const failure = new Error('boom');
    await expect(
      stream.pipe(
        (async function* () {
          yield 'a';
          throw failure;
        })(),
      ),
    ).rejects.toBe(failure);
    expect(await stream.closed).toEqual({ reason: 'error', error: failure });
  });
});
