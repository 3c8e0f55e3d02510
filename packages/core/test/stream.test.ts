import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { SseError, SseFormatError, type EventStream, type SlowClientInfo } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';

afterEach(() => {
  vi.useRealTimers();
});

const KIB = 1024;

describe('createEventStream: opening', () => {
  it('opens the sink once with status 200 and the default headers', () => {
    const sink = new MemorySink({ httpVersion: '1.1' });
    createEventStream(sink, { keepAlive: false });
    expect(sink.openCount).toBe(1);
    expect(sink.status).toBe(200);
    expect(sink.headers).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
  });

  it('sends no Connection header on HTTP/2 or when the version is unknown', () => {
    for (const httpVersion of ['2.0', undefined]) {
      const sink = new MemorySink(httpVersion === undefined ? {} : { httpVersion });
      createEventStream(sink, { keepAlive: false });
      expect(sink.headers).not.toHaveProperty('connection');
    }
  });

  it('merges extra headers over the defaults, case-insensitively', () => {
    const sink = new MemorySink();
    createEventStream(sink, { keepAlive: false, headers: { 'Cache-Control': 'no-store', 'X-Trace': 'abc' } });
    expect(sink.headers?.['cache-control']).toBe('no-store');
    expect(sink.headers?.['x-trace']).toBe('abc');
  });

  it('writes one comment at open, so that fronts holding the head until the first body byte send it', () => {
    const sink = new MemorySink();
    createEventStream(sink, { keepAlive: false });
    expect(sink.text).toBe(':\n\n');
    expect(parseChunks(sink.chunks)).toMatchObject({ events: [], comments: [''] });
  });

  it('sends the initial retry first, and validates it before opening', () => {
    const sink = new MemorySink();
    createEventStream(sink, { retry: 2500, retryJitter: 0, keepAlive: false });
    expect(sink.text).toBe('retry: 2500\n\n');
    const bad = new MemorySink();
    expect(() => createEventStream(bad, { retry: -5 })).toThrow(SseFormatError);
    expect(bad.openCount).toBe(0);
  });

  it('rejects invalid options with a typed error', () => {
    expect(() => createEventStream(new MemorySink(), { slowClient: 'ignore' as 'disconnect' })).toThrow(SseError);
    expect(() => createEventStream(new MemorySink(), { maxBufferedBytes: -1 })).toThrow(SseError);
    expect(() => createEventStream(new MemorySink(), { keepAlive: Number.NaN })).toThrow(SseError);
  });

  it('exposes the last event id it was given', () => {
    expect(createEventStream(new MemorySink(), { lastEventId: '41', keepAlive: false }).lastEventId).toBe('41');
    expect(createEventStream(new MemorySink(), { keepAlive: false }).lastEventId).toBeUndefined();
  });
});

describe('send and comment', () => {
  it('sends bare data as a message and a plain object as event fields', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    expect(stream.send('hi')).toBe(true);
    stream.send([1, 2]);
    stream.send({ data: { a: 1 } });
    stream.send({ event: 'tick', data: { seq: 1 }, id: 'x1' });
    stream.comment('note');
    const parsed = parseChunks(sink.chunks);
    expect(parsed.events).toEqual([
      { data: 'hi', event: undefined, id: undefined },
      { data: '[1,2]', event: undefined, id: undefined },
      { data: '{"a":1}', event: undefined, id: undefined },
      { data: '{"seq":1}', event: 'tick', id: 'x1' },
    ]);
    expect(parsed.comments).toEqual(['', 'note']); // the comment at open, then ours
  });

  it('writes each event in one chunk', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    stream.send({ event: 'a', data: 'line1\nline2', id: '1' });
    expect(sink.chunks).toHaveLength(2); // the comment at open, then the event
  });

  it('refuses a plain object with other keys, with a hint to wrap it', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    expect(() => stream.send({ user: 'ann' } as never)).toThrow(/wrap it: send\(\{ data: value \}\)/);
    expect(() => stream.send(undefined as never)).toThrow(SseFormatError);
    expect(() => stream.send({ event: 'a\nb', data: 1 })).toThrow(SseFormatError);
    expect(sink.text).toBe(':\n\n'); // only the comment at open
    expect(stream.isClosed).toBe(false);
  });

  it('type-checks events against the event map', () => {
    const stream = createEventStream<{ tick: { seq: number }; note: string }>(new MemorySink(), { keepAlive: false });
    stream.send({ event: 'tick', data: { seq: 1 } });
    stream.send({ event: 'note', data: 'x' });
    // @ts-expect-error: tick carries { seq: number }
    stream.send({ event: 'tick', data: 'wrong' });
    // @ts-expect-error: no such event in the map
    stream.send({ event: 'tock', data: { seq: 1 } });
    expectTypeOf(stream).toEqualTypeOf<EventStream<{ tick: { seq: number }; note: string }>>();
  });

  it('returns false and writes nothing once closed', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    stream.close();
    expect(stream.send('late')).toBe(false);
    expect(stream.comment('late')).toBe(false);
    expect(sink.text).toBe(':\n\n'); // only the comment at open
    await expect(stream.closed).resolves.toEqual({ reason: 'server' });
  });
});

describe('keep-alive', () => {
  it('sends a comment after each idle interval, counted from the last write', () => {
    vi.useFakeTimers();
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: 15_000 });
    expect(sink.text).toBe(':\n\n'); // the comment at open
    vi.advanceTimersByTime(14_999);
    expect(sink.text).toBe(':\n\n');
    vi.advanceTimersByTime(1);
    expect(sink.text).toBe(':\n\n:\n\n');
    vi.advanceTimersByTime(10_000);
    stream.send('x'); // resets the idle clock
    vi.advanceTimersByTime(14_999);
    expect(sink.text).toBe(':\n\n:\n\ndata: x\n\n');
    vi.advanceTimersByTime(1);
    expect(sink.text).toBe(':\n\n:\n\ndata: x\n\n:\n\n');
  });

  it('leaves no timer behind once closed', () => {
    vi.useFakeTimers();
    const stream = createEventStream(new MemorySink(), { keepAlive: 1000 });
    expect(vi.getTimerCount()).toBe(1);
    stream.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('can be turned off', () => {
    vi.useFakeTimers();
    createEventStream(new MemorySink(), { keepAlive: false });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('backpressure and slow clients', () => {
  const event = (n: number) => ({ data: 'x'.repeat(1000), id: String(n) });

  it('queues while the sink is full and delivers everything in order on drain', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    sink.accepting = false;
    stream.send(event(0)); // accepted by the sink, which now reports full
    expect(stream.writable).toBe(false);
    for (let n = 1; n < 50; n++) stream.send(event(n));
    expect(sink.chunks).toHaveLength(2); // the comment at open and event 0
    expect(stream.bufferedBytes).toBeGreaterThan(49 * 1000);
    sink.drain();
    expect(stream.bufferedBytes).toBe(0);
    expect(stream.writable).toBe(true);
    expect(parseChunks(sink.chunks).events.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, n) => String(n)));
    // Queued events are written in batches, not one write each.
    expect(sink.chunks.length).toBeLessThan(50);
  });

  it("disconnects a client past maxBufferedBytes by default, and reports it", async () => {
    const sink = new MemorySink();
    const reports: SlowClientInfo[] = [];
    const stream = createEventStream(sink, { keepAlive: false, maxBufferedBytes: 64 * KIB, onSlowClient: (info) => reports.push(info) });
    sink.accepting = false;
    let peak = 0;
    for (let n = 0; n < 10_000 && !stream.isClosed; n++) {
      stream.send(event(n));
      peak = Math.max(peak, stream.bufferedBytes);
    }
    expect(stream.isClosed).toBe(true);
    expect(peak).toBeLessThanOrEqual(64 * KIB);
    expect(stream.bufferedBytes).toBe(0);
    expect(sink.closedWith).toBe('abort');
    expect(stream.signal.aborted).toBe(true);
    await expect(stream.closed).resolves.toEqual({ reason: 'slow-client' });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ policy: 'disconnect' });
    expect(reports[0]!.bufferedBytes).toBeGreaterThan(64 * KIB);
  });

  it("keeps the newest events within the bound with 'drop-oldest'", () => {
    const sink = new MemorySink();
    const reports: SlowClientInfo[] = [];
    const stream = createEventStream(sink, {
      keepAlive: false,
      maxBufferedBytes: 32 * KIB,
      slowClient: 'drop-oldest',
      onSlowClient: (info) => reports.push(info),
    });
    sink.accepting = false;
    for (let n = 0; n < 100_000; n++) {
      stream.send(event(n));
      expect(stream.bufferedBytes).toBeLessThanOrEqual(32 * KIB);
    }
    expect(stream.isClosed).toBe(false);
    expect(reports).toHaveLength(1); // one report per episode
    sink.drain();
    const events = parseChunks(sink.chunks).events;
    const ids = events.map((e) => Number(e.id));
    expect(ids[0]).toBe(0);
    // The drops are announced once, in place of what was dropped (the gap event has no id).
    expect(events[1]).toEqual({ event: 'sse-gap', data: '{"reason":"dropped"}', id: undefined });
    expect(events.filter((e) => e.event === 'sse-gap')).toHaveLength(1);
    expect(ids.at(-1)).toBe(99_999);
    // What survived is the newest, contiguous, in order.
    const tail = ids.slice(2);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => 99_999 - tail.length + 1 + i));
    expect(tail.length).toBeGreaterThan(20);
  });

  it('whenWritable waits for the drain and resolves false if the stream closes first', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    await expect(stream.whenWritable()).resolves.toBe(true);
    sink.accepting = false;
    stream.send('a');
    const waiting = stream.whenWritable();
    sink.drain();
    await expect(waiting).resolves.toBe(true);
    sink.accepting = false;
    stream.send('b');
    const closing = stream.whenWritable();
    sink.disconnect();
    await expect(closing).resolves.toBe(false);
  });

  it('delivers queued events before a clean close', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    sink.accepting = false;
    for (let n = 0; n < 5; n++) stream.send(event(n));
    stream.close();
    expect(parseChunks(sink.chunks).events).toHaveLength(5);
    expect(sink.closedWith).toBe('close');
  });
});

describe('closing', () => {
  it('closes with reason client when the sink signal fires, aborting its own signal', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: 1000 });
    sink.disconnect();
    expect(stream.signal.aborted).toBe(true);
    expect(stream.isClosed).toBe(true);
    await expect(stream.closed).resolves.toEqual({ reason: 'client' });
  });

  it('aborts a signal taken while open when the stream closes, with an SseError reason', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    const { signal } = stream;
    const reasons: unknown[] = [];
    signal.addEventListener('abort', () => reasons.push(signal.reason));
    expect(signal.aborted).toBe(false);
    stream.close();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: 'ERR_SSE_CLOSED' });
  });

  it('closes at once if the client was already gone', async () => {
    const sink = new MemorySink();
    sink.disconnect();
    const stream = createEventStream(sink);
    await expect(stream.closed).resolves.toEqual({ reason: 'client' });
  });

  it("closes with reason shutdown when the options' signal fires", async () => {
    const server = new AbortController();
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, signal: server.signal });
    server.abort();
    await expect(stream.closed).resolves.toEqual({ reason: 'shutdown' });
    expect(sink.closedWith).toBe('close');
  });

  it('turns a failing write into a close with reason error, never a throw', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    sink.failWrites();
    expect(stream.send('x')).toBe(false);
    const info = await stream.closed;
    expect(info.reason).toBe('error');
    expect(String(info.error)).toMatch(/EPIPE/);
  });

  it('is idempotent', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    stream.close();
    stream.close();
    sink.disconnect();
    await expect(stream.closed).resolves.toEqual({ reason: 'server' });
  });
});

describe('pipe', () => {
  it('sends every item of an async iterable', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    async function* items() {
      yield 'a';
      yield { event: 'b', data: 2 };
    }
    await stream.pipe(items());
    await stream.pipe(['c']);
    expect(parseChunks(sink.chunks).events.map((e) => e.data)).toEqual(['a', '2', 'c']);
  });

  it('does not pull the next item while the client is slow', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    let pulled = 0;
    async function* items() {
      for (;;) {
        pulled++;
        yield 'x';
      }
    }
    sink.accepting = false;
    const piping = stream.pipe(items());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBe(1);
    sink.drain();
    sink.accepting = false;
    sink.drain();
    sink.accepting = false;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBeLessThanOrEqual(3);
    stream.close();
    await piping;
  });

  it('stops the iterator when the client leaves', async () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false });
    let cleanedUp = false;
    async function* ticks() {
      try {
        for (;;) {
          yield 'tick';
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        cleanedUp = true;
      }
    }
    const piping = stream.pipe(ticks());
    await new Promise((resolve) => setTimeout(resolve, 30));
    sink.disconnect();
    await piping;
    await vi.waitFor(() => expect(cleanedUp).toBe(true));
  });

  it('rejects with the error of the iterable', async () => {
    const stream = createEventStream(new MemorySink(), { keepAlive: false });
    async function* failing() {
      yield 'a';
      throw new Error('source failed');
    }
    await expect(stream.pipe(failing())).rejects.toThrow('source failed');
  });
});
