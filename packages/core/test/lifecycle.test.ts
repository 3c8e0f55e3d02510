import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_REASONS, createChannel, createFetchHandler, createStreamRegistry, SseError, SseFormatError, type EventStream, type LifecycleEntry } from '../src/index.js';
import { acceptsEventStream, createEventStream, requestFacts, serveEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('jittered retry', () => {
  it('spreads retry within the given fraction, per stream', () => {
    const values = new Set<number>();
    for (let n = 0; n < 200; n++) {
      const sink = new MemorySink();
      createEventStream(sink, { keepAlive: false, retry: 3000, retryJitter: 0.2 });
      const [retry] = parseChunks(sink.chunks).retries;
      expect(retry).toBeGreaterThanOrEqual(2400);
      expect(retry).toBeLessThanOrEqual(3600);
      values.add(retry!);
    }
    expect(values.size).toBeGreaterThan(50);
  });

  it('spreads retry by 10% either way by default, like lifetimes', () => {
    const values = new Set<number>();
    for (let n = 0; n < 200; n++) {
      const sink = new MemorySink();
      createEventStream(sink, { keepAlive: false, retry: 3000 });
      const [retry] = parseChunks(sink.chunks).retries;
      expect(retry).toBeGreaterThanOrEqual(2700);
      expect(retry).toBeLessThanOrEqual(3300);
      values.add(retry!);
    }
    expect(values.size).toBeGreaterThan(50);
  });

  it('sends the exact retry with retryJitter 0, and rejects a bad fraction', () => {
    const sink = new MemorySink();
    createEventStream(sink, { keepAlive: false, retry: 3000, retryJitter: 0 });
    expect(parseChunks(sink.chunks).retries).toEqual([3000]);
    expect(() => createEventStream(new MemorySink(), { retry: 1000, retryJitter: 2 })).toThrow(SseError);
    expect(() => createEventStream(new MemorySink(), { retry: -1, retryJitter: 0.1 })).toThrow(SseFormatError);
  });
});

describe('maximum lifetime', () => {
  it('closes cleanly with reason lifetime, shortened by at most the jitter', async () => {
    vi.useFakeTimers();
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, maxLifetimeMs: 10_000, lifetimeJitter: 0.1 });
    stream.send('a');
    vi.advanceTimersByTime(8_999);
    expect(stream.isClosed).toBe(false);
    vi.advanceTimersByTime(1_001);
    expect(stream.isClosed).toBe(true);
    await expect(stream.closed).resolves.toEqual({ reason: 'lifetime' });
    expect(sink.closedWith).toBe('close');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a bad lifetime', () => {
    expect(() => createEventStream(new MemorySink(), { maxLifetimeMs: -1 })).toThrow(SseError);
    expect(() => createEventStream(new MemorySink(), { maxLifetimeMs: 10, lifetimeJitter: -0.5 })).toThrow(SseError);
  });
});

describe('stalled clients', () => {
  it('closes a stream whose connection stays full for stallTimeoutMs', async () => {
    vi.useFakeTimers();
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, stallTimeoutMs: 5_000 });
    sink.accepting = false;
    stream.send('x');
    vi.advanceTimersByTime(4_999);
    expect(stream.isClosed).toBe(false);
    vi.advanceTimersByTime(1);
    await expect(stream.closed).resolves.toEqual({ reason: 'stalled' });
    expect(sink.closedWith).toBe('abort');
  });

  it('keeps a slow client that does drain', () => {
    vi.useFakeTimers();
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, stallTimeoutMs: 5_000 });
    for (let n = 0; n < 10; n++) {
      sink.accepting = false;
      stream.send('x');
      vi.advanceTimersByTime(4_000);
      sink.drain();
    }
    expect(stream.isClosed).toBe(false);
  });

  it('cuts off a stalled client after a clean close that cannot finish', () => {
    vi.useFakeTimers();
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, stallTimeoutMs: 1_000 });
    sink.accepting = false;
    stream.send('x');
    const abort = vi.spyOn(sink, 'abort');
    stream.close();
    expect(sink.closedWith).toBe('close');
    vi.advanceTimersByTime(1_000);
    expect(abort).toHaveBeenCalledTimes(1);
  });
});

describe('acceptsEventStream', () => {
  it.each([
    [undefined, true],
    ['', true],
    ['text/event-stream', true],
    ['*/*', true],
    ['text/html,application/xhtml+xml,*/*;q=0.8', true],
    ['text/*', true],
    ['application/json', false],
    ['text/event-stream;q=0', false],
    ['text/html', false],
  ])('%s → %s', (accept, expected) => {
    expect(acceptsEventStream(accept)).toBe(expected);
  });

  it('answers 406 to a request that does not accept an event stream, unless turned off', async () => {
    const handler = vi.fn((stream: EventStream) => stream.close());
    const json = new Request('http://x/', { headers: { accept: 'application/json' } });
    const refused = await createFetchHandler(handler)(json);
    expect(refused.status).toBe(406);
    expect(await refused.text()).toMatch(/text\/event-stream/);
    expect(handler).not.toHaveBeenCalled();
    const allowed = await createFetchHandler(handler, { checkAccept: false })(new Request('http://x/', { headers: { accept: 'application/json' } }));
    expect(allowed.status).toBe(200);
  });
});

describe('createStreamRegistry', () => {
  const open = (registry: ReturnType<typeof createStreamRegistry>, key = 'a', init?: RequestInit) =>
    createFetchHandler((stream) => void stream, { registry, clientKey: () => key, keepAlive: false })(new Request('http://x/sse', init));

  it('caps streams per key with 429 and globally with 503, both with Retry-After', async () => {
    const registry = createStreamRegistry({ maxStreams: 3, maxStreamsPerKey: 2, retryAfterSeconds: 7 });
    const a1 = await open(registry, 'a');
    await open(registry, 'a');
    const a3 = await open(registry, 'a');
    expect(a1.status).toBe(200);
    expect(a3.status).toBe(429);
    expect(a3.headers.get('retry-after')).toBe('7');
    expect(a3.headers.get('content-type')).not.toMatch(/event-stream/);
    await open(registry, 'b');
    const b2 = await open(registry, 'c');
    expect(b2.status).toBe(503);
    expect(b2.headers.get('retry-after')).toBe('7');
    expect(registry.size).toBe(3);
    // A closed stream frees its slot.
    await a1.body!.cancel();
    expect(registry.size).toBe(2);
    expect((await open(registry, 'a')).status).toBe(200);
    expect(registry.counters().rejected).toBe(2);
  });

  const asEventSource: RequestInit = { headers: { accept: 'text/event-stream', 'cache-control': 'no-cache' } };

  /** The answer an EventSource gets when it is turned away: a 200 event stream that only sets `retry` and ends. */
  async function expectComeBackLater(response: Response, retryMs: { min: number; max: number }): Promise<void> {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('retry-after')).toBeNull();
    const parsed = parseChunks([new TextEncoder().encode(await response.text())]); // the body ends by itself
    expect(parsed.events).toEqual([]);
    expect(parsed.retries).toHaveLength(1);
    expect(parsed.retries[0]).toBeGreaterThanOrEqual(retryMs.min);
    expect(parsed.retries[0]).toBeLessThanOrEqual(retryMs.max);
  }

  it('turns an EventSource away with an empty 200 stream holding a jittered retry (any other status would stop it for good), never an open stream', async () => {
    const entries: LifecycleEntry[] = [];
    const registry = createStreamRegistry({ maxStreams: 2, maxStreamsPerKey: 1, retryAfterSeconds: 7, onLifecycle: (entry) => entries.push(entry) });
    const first = await open(registry, 'a', asEventSource);
    expect(first.status).toBe(200);
    await expectComeBackLater(await open(registry, 'a', asEventSource), { min: 6300, max: 7700 }); // per key
    await open(registry, 'b', asEventSource);
    const retries = new Set<number>();
    for (let n = 0; n < 20; n++) {
      const refused = await open(registry, 'c', asEventSource); // global cap
      await expectComeBackLater(refused.clone(), { min: 6300, max: 7700 });
      retries.add(parseChunks([new TextEncoder().encode(await refused.text())]).retries[0]!);
    }
    expect(retries.size).toBeGreaterThan(5); // spread, so refused clients do not come back together
    expect(registry.size).toBe(2);
    expect(registry.counters()).toMatchObject({ opened: 2, rejected: 21 });
    expect(entries.filter((entry) => entry.type === 'reject')[0]).toEqual({ type: 'reject', key: 'a', status: 200, cause: 'max-streams-per-key', retryMs: expect.any(Number) });
    // The same registry still answers other clients with the status and Retry-After.
    const plain = await open(registry, 'c', { headers: { accept: '*/*' } });
    expect(plain.status).toBe(503);
    expect(plain.headers.get('retry-after')).toBe('7');
  });

  it("answers every client with 503/429 + Retry-After with refuseWith: 'status'; retry is at least a second", async () => {
    const strict = createStreamRegistry({ maxStreams: 1, refuseWith: 'status' });
    await open(strict, 'a', asEventSource);
    const refused = await open(strict, 'b', asEventSource);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(() => createStreamRegistry({ refuseWith: 'never' as 'status' })).toThrow(SseError);

    const eager = createStreamRegistry({ maxStreams: 1, retryAfterSeconds: 0 });
    await open(eager, 'a', asEventSource);
    await expectComeBackLater(await open(eager, 'b', asEventSource), { min: 900, max: 1100 });
  });

  it('during a drain tells an EventSource to come back later, unless closeAll said 204 (stop)', async () => {
    const registry = createStreamRegistry({ retryAfterSeconds: 2 });
    await registry.closeAll();
    await expectComeBackLater(await open(registry, 'a', asEventSource), { min: 1800, max: 2200 });
    expect(registry.size).toBe(0);
    const stopping = createStreamRegistry();
    await stopping.closeAll({ status: 204 });
    expect((await open(stopping, 'a', asEventSource)).status).toBe(204);
  });

  it('rejects invalid limits with a typed error', () => {
    expect(() => createStreamRegistry({ maxStreams: 0 })).toThrow(SseError);
    expect(() => createStreamRegistry({ maxStreamsPerKey: 1.5 })).toThrow(SseError);
    expect(() => createStreamRegistry({ retryAfterSeconds: -1 })).toThrow(SseError);
  });

  it('counts opens, closes by reason, events, bytes, slow clients and replays', async () => {
    const registry = createStreamRegistry();
    const channel = createChannel({ history: 10 });
    const first = await channel.broadcast('before');
    const handler = createFetchHandler((stream) => void channel.subscribe(stream), { registry, keepAlive: false });
    const response = await handler(new Request('http://x/', { headers: { 'last-event-id': first } }));
    await channel.broadcast('one');
    await channel.broadcast('two');
    const reader = response.body!.getReader();
    await reader.cancel();
    const counters = registry.counters();
    // commentsWritten: the comment at open (fronts that hold the head until the first body byte need it).
    expect(counters).toMatchObject({ open: 0, opened: 1, closed: 1, eventsWritten: 2, commentsWritten: 1, replays: 1, replayedEvents: 0 });
    expect(counters.closedBy.client).toBe(1);
    expect(counters.bytesWritten).toBeGreaterThan(20);
    expect(registry.toPrometheus()).toMatch(/^sse_streams_opened_total 1$/m);
    expect(registry.toPrometheus('app')).toMatch(/^app_streams_closed_total\{reason="client"\} 1$/m);
  });

  it('counts and exports every reason of CLOSE_REASONS, from the one list', () => {
    const registry = createStreamRegistry();
    expect(Object.keys(registry.counters().closedBy)).toEqual([...CLOSE_REASONS]);
    const exported = [...registry.toPrometheus().matchAll(/^sse_streams_closed_total\{reason="([^"]+)"\} 0$/gm)].map((match) => match[1]);
    expect(exported).toEqual([...CLOSE_REASONS]);
    expect(CLOSE_REASONS).toEqual(['client', 'server', 'slow-client', 'error', 'shutdown', 'lifetime', 'stalled']);
  });

  it('reports lifecycle entries to the hook, and a throwing hook changes nothing', async () => {
    const entries: LifecycleEntry[] = [];
    const registry = createStreamRegistry({ maxStreamsPerKey: 1, onLifecycle: (entry) => entries.push(entry) });
    const response = await open(registry, 'k');
    await open(registry, 'k');
    await response.body!.cancel();
    expect(entries.map((e) => e.type)).toEqual(['open', 'reject', 'close']);
    const throwing = createStreamRegistry({ onLifecycle: () => { throw new Error('logger down'); } });
    expect((await open(throwing)).status).toBe(200);
  });

  it('drains: a last event, a clean end for every stream, 503 or 204 for newcomers', async () => {
    const registry = createStreamRegistry({ retryAfterSeconds: 3 });
    const responses = await Promise.all([open(registry, 'a'), open(registry, 'b'), open(registry, 'c')]);
    const result = await registry.closeAll({ event: { event: 'bye', data: 'restarting' }, timeoutMs: 1000 });
    expect(result).toMatchObject({ closed: 3, forced: 0 });
    for (const response of responses) {
      const events = parseChunks([new TextEncoder().encode(await response.text())]).events;
      expect(events).toEqual([{ event: 'bye', data: 'restarting', id: undefined }]);
    }
    expect(registry.draining).toBe(true);
    const late = await open(registry, 'd');
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('3');
    expect(registry.counters().closedBy.shutdown).toBe(3);

    const stopping = createStreamRegistry();
    await stopping.closeAll({ status: 204 });
    expect((await open(stopping)).status).toBe(204);
  });

  it('refuses a bad last event before closing anything', async () => {
    const registry = createStreamRegistry();
    await open(registry);
    await expect(registry.closeAll({ event: { event: 'a\nb', data: 1 } })).rejects.toThrow(SseFormatError);
    expect(registry.size).toBe(1);
    expect(registry.draining).toBe(false);
  });

  it('cuts off streams that do not finish within timeoutMs', async () => {
    const registry = createStreamRegistry();
    const sink = new MemorySink();
    let finish!: () => void;
    sink.close = () => {
      sink.closedWith ??= 'close';
      return new Promise<void>((resolve) => (finish = resolve));
    };
    const stream = (await serveEventStream({
      request: requestFacts({ headers: {} }),
      createSink: () => sink,
      respond: () => undefined,
      args: [],
      handler: () => undefined,
      options: { registry, keepAlive: false },
    }))!;
    expect(registry.streams()).toEqual([stream]);
    const abort = vi.spyOn(sink, 'abort');
    const result = await registry.closeAll({ timeoutMs: 20 });
    expect(result).toMatchObject({ closed: 1, forced: 1 });
    expect(abort).toHaveBeenCalledTimes(1);
    finish();
  });
});

describe('exported defaults', () => {
  it('are the values streams use when no option is given', async () => {
    const { DEFAULT_KEEP_ALIVE_MS, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_MAX_LAST_EVENT_ID_LENGTH, DEFAULT_MAX_EVENT_BYTES } = await import('../src/index.js');
    const { readLastEventId } = await import('../src/adapter.js');
    expect([DEFAULT_KEEP_ALIVE_MS, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_MAX_LAST_EVENT_ID_LENGTH, DEFAULT_MAX_EVENT_BYTES]).toEqual([15_000, 1_048_576, 30_000, 1024, 262_144]);
    vi.useFakeTimers();
    const sink = new MemorySink();
    const stream = createEventStream(sink);
    vi.advanceTimersByTime(DEFAULT_KEEP_ALIVE_MS);
    expect(sink.text).toBe(':\n\n:\n\n'); // the comment at open, then the keep-alive
    sink.accepting = false;
    stream.send('x');
    vi.advanceTimersByTime(DEFAULT_STALL_TIMEOUT_MS);
    expect(stream.isClosed).toBe(true);
    const bounded = createEventStream(new MemorySink(), { keepAlive: false });
    const full = new MemorySink();
    full.accepting = false;
    const slow = createEventStream(full, { keepAlive: false });
    slow.send('x');
    while (!slow.isClosed) slow.send('y'.repeat(1024));
    expect(bounded.isClosed).toBe(false);
    await expect(slow.closed).resolves.toEqual({ reason: 'slow-client' });
    expect(readLastEventId('x'.repeat(DEFAULT_MAX_LAST_EVENT_ID_LENGTH + 1))).toBeUndefined();
  });
});

describe('serveEventStream defaultOnError', () => {
  const serve = (options: Record<string, unknown>, handler: () => void, defaultOnError: ((error: unknown) => void) | undefined) =>
    serveEventStream<[string]>({
      request: requestFacts({ headers: {} }),
      createSink: () => new MemorySink(),
      respond: () => undefined,
      args: ['request'],
      handler,
      options: { keepAlive: false, ...options },
      defaultOnError,
    });

  it("takes the errors onError would get, with no arguments, in place of the console", async () => {
    const console_ = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: unknown[][] = [];
    const boom = new Error('boom');
    const stream = await serve({}, () => {
      throw boom;
    }, (...got) => seen.push(got));
    expect(seen).toEqual([[boom]]);
    expect(stream?.isClosed).toBe(true);
    expect(console_).not.toHaveBeenCalled();
  });

  it('also takes a refused authorize result', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: unknown[] = [];
    await serve({ authorize: () => 'yes' }, () => undefined, (error) => seen.push(error));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(SseError);
    expect((seen[0] as SseError).code).toBe('ERR_SSE_AUTHORIZE_RESULT');
  });

  it("gives way to the route's onError, which gets the request's arguments", async () => {
    const fromDefault: unknown[] = [];
    const fromOption: unknown[][] = [];
    const boom = new Error('boom');
    await serve({ onError: (...got: unknown[]) => fromOption.push(got) }, () => {
      throw boom;
    }, (error) => fromDefault.push(error));
    expect(fromOption).toEqual([[boom, 'request']]);
    expect(fromDefault).toEqual([]);
  });

  it('that throws is logged to the console, never rethrown', async () => {
    const console_ = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const stream = await serve({}, () => {
      throw new Error('boom');
    }, () => {
      throw new Error('the logger failed');
    });
    expect(stream?.isClosed).toBe(true);
    expect(console_).toHaveBeenCalledTimes(1);
    expect(String(console_.mock.calls[0]!.at(-1))).toContain('the logger failed');
  });
});
