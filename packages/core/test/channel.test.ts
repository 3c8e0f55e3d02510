import { describe, expect, it, vi } from 'vitest';
import { createChannel, createMemoryStore, SseError, SseFormatError, type ChannelEvent, type ChannelStore, type EventStream, type ReplayResult } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';

function client(lastEventId?: string): { sink: MemorySink; stream: EventStream } {
  const sink = new MemorySink();
  const stream = createEventStream(sink, { keepAlive: false, lastEventId });
  return { sink, stream };
}

const received = (sink: MemorySink) => parseChunks(sink.chunks).events;

describe('createChannel: broadcast', () => {
  it('encodes a broadcast once and writes the same bytes to every subscriber', () => {
    const channel = createChannel();
    const clients = [client(), client(), client()];
    for (const { stream } of clients) channel.subscribe(stream);
    // Not awaited: with the in-memory store a broadcast is delivered synchronously, as this checks.
    void channel.broadcast({ event: 'news', data: { a: 1 } });
    const chunks = clients.map(({ sink }) => sink.chunks[0]);
    expect(chunks[0]).toBeDefined();
    expect(chunks[1]).toBe(chunks[0]);
    expect(chunks[2]).toBe(chunks[0]);
    expect(received(clients[0]!.sink)).toEqual([{ event: 'news', data: '{"a":1}', id: expect.any(String) }]);
  });

  it('assigns increasing ids when the app gives none, and keeps those it gives', async () => {
    const channel = createChannel();
    const { sink, stream } = client();
    channel.subscribe(stream);
    const first = await channel.broadcast('a');
    const second = await channel.broadcast('b');
    const given = await channel.broadcast({ data: 'c', id: 'mine-1' });
    expect(first).not.toBe(second);
    expect(given).toBe('mine-1');
    expect(received(sink).map((e) => e.id)).toEqual([first, second, 'mine-1']);
  });

  it('counts subscribers, and closed streams leave by themselves', () => {
    const channel = createChannel();
    const a = client();
    const b = client();
    channel.subscribe(a.stream);
    const unsubscribe = channel.subscribe(b.stream);
    expect(channel.size).toBe(2);
    a.sink.disconnect();
    expect(channel.size).toBe(1);
    unsubscribe();
    expect(channel.size).toBe(0);
    void channel.broadcast('nobody'); // delivered synchronously (in-memory store): nothing to await
    expect(b.sink.text).toBe(':\n\n'); // only the comment at open
    const closed = client();
    closed.stream.close();
    channel.subscribe(closed.stream);
    expect(channel.size).toBe(0);
  });

  it('applies subscription filters to the broadcast value and broadcast filters to streams', () => {
    const channel = createChannel<{ price: { symbol: string; value: number } }>();
    const apple = client();
    const all = client();
    channel.subscribe(apple.stream, { filter: (message) => (message.data as { symbol: string }).symbol === 'AAPL' });
    channel.subscribe(all.stream);
    // Not awaited: the in-memory store delivers synchronously.
    void channel.broadcast({ event: 'price', data: { symbol: 'AAPL', value: 1 } });
    void channel.broadcast({ event: 'price', data: { symbol: 'MSFT', value: 2 } });
    void channel.broadcast({ event: 'price', data: { symbol: 'AAPL', value: 3 } }, { filter: (stream) => stream === all.stream });
    expect(received(apple.sink).map((e) => JSON.parse(e.data).value)).toEqual([1]);
    expect(received(all.sink).map((e) => JSON.parse(e.data).value)).toEqual([1, 2, 3]);
  });

  it('refuses invalid broadcasts synchronously, with nothing sent', () => {
    const channel = createChannel();
    const { sink, stream } = client();
    channel.subscribe(stream);
    expect(() => channel.broadcast({ event: 'a\nb', data: 1 })).toThrow(SseFormatError);
    expect(() => channel.broadcast({ data: 1, id: 'x\ny' })).toThrow(SseFormatError);
    expect(() => channel.broadcast({ data: 1, retry: 10 })).toThrow(SseFormatError);
    expect(() => channel.broadcast({ data: 1, id: '' })).toThrow(SseFormatError);
    expect(() => channel.broadcast({ who: 1 } as never)).toThrow(SseFormatError);
    expect(() => channel.broadcast({})).toThrow(SseFormatError);
    expect(sink.text).toBe(':\n\n'); // only the comment at open
  });

  it('keeps writing to fast subscribers while a slow one is dropped', () => {
    const channel = createChannel();
    const fast = client();
    const slowSink = new MemorySink();
    const slow = createEventStream(slowSink, { keepAlive: false, maxBufferedBytes: 8 * 1024 });
    channel.subscribe(fast.stream);
    channel.subscribe(slow);
    slowSink.accepting = false;
    // Not awaited: delivery is synchronous (in-memory store), so the slow one is cut off by the end of the loop.
    for (let n = 0; n < 100; n++) void channel.broadcast('x'.repeat(500));
    expect(slow.isClosed).toBe(true);
    expect(channel.size).toBe(1);
    expect(received(fast.sink)).toHaveLength(100);
  });

  it('refuses broadcast filters on a shared store', () => {
    const shared: ChannelStore = { ...createMemoryStore(), shared: true };
    const channel = createChannel({ store: shared });
    expect(() => channel.broadcast('x', { filter: () => true })).toThrow(SseError);
  });

  it('rejects the broadcast and reports a failing store, without an unhandled rejection', async () => {
    const onError = vi.fn();
    const failing: ChannelStore = {
      publish: () => Promise.reject(new Error('store down')),
      listen: () => () => undefined,
      since: () => null,
    };
    const channel = createChannel({ store: failing, onError });
    await expect(channel.broadcast('x')).rejects.toThrow('store down');
    void channel.broadcast('not awaited'); // the point: its rejection goes to onError, not unhandled
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(onError).toHaveBeenCalledTimes(2);
  });
});

describe('createChannel: history and replay', () => {
  async function fill(channel: ReturnType<typeof createChannel>, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) ids.push(await channel.broadcast({ data: `m${n}` }));
    return ids;
  }

  it('replays what a reconnecting client missed, in order, before live events', async () => {
    const channel = createChannel({ history: 100 });
    const ids = await fill(channel, 10);
    const results: ReplayResult[] = [];
    const { sink, stream } = client(ids[3]);
    channel.subscribe(stream, { onReplay: (result) => results.push(result) });
    await channel.broadcast('live');
    expect(received(sink).map((e) => e.data)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9', 'live']);
    expect(results).toEqual([{ status: 'replayed', lastEventId: ids[3], count: 6 }]);
  });

  it('replays nothing to an up-to-date client', async () => {
    const channel = createChannel({ history: 100 });
    const ids = await fill(channel, 3);
    const { sink, stream } = client(ids[2]);
    const results: ReplayResult[] = [];
    channel.subscribe(stream, { onReplay: (result) => results.push(result) });
    expect(sink.text).toBe(':\n\n'); // only the comment at open
    expect(results).toEqual([{ status: 'replayed', lastEventId: ids[2], count: 0 }]);
  });

  it('reports an unknown or expired id so the app can send a full refresh first', async () => {
    const channel = createChannel({ history: 5 });
    const ids = await fill(channel, 10);
    for (const lastEventId of [ids[0]!, 'never-issued', '999']) {
      const { sink, stream } = client(lastEventId);
      channel.subscribe(stream, {
        onReplay: (result) => {
          expect(result).toEqual({ status: 'unknown', lastEventId });
          stream.send({ event: 'refresh', data: 'snapshot' });
        },
      });
      await channel.broadcast('live');
      // The gap event first (the client is told in band), then what onReplay sent, then live events.
      expect(received(sink).map((e) => e.event ?? e.data)).toEqual(['sse-gap', 'refresh', 'live']);
    }
  });

  it('reports none on a first connection and when replay is off', () => {
    const channel = createChannel({ history: 5 });
    const results: ReplayResult[] = [];
    channel.subscribe(client().stream, { onReplay: (r) => results.push(r) });
    channel.subscribe(client('x').stream, { replay: false, onReplay: (r) => results.push(r) });
    expect(results).toEqual([{ status: 'none' }, { status: 'none' }]);
  });

  it('replays after an explicit id', async () => {
    const channel = createChannel({ history: 10 });
    const ids = await fill(channel, 4);
    const { sink, stream } = client();
    channel.subscribe(stream, { replay: ids[1]! });
    expect(received(sink).map((e) => e.data)).toEqual(['m2', 'm3']);
  });

  it('forgets events older than maxAgeMs', async () => {
    vi.useFakeTimers();
    try {
      const channel = createChannel({ history: { limit: 100, maxAgeMs: 1000 } });
      const [old] = await fill(channel, 1);
      vi.advanceTimersByTime(600);
      const [recent] = await fill(channel, 1);
      vi.advanceTimersByTime(600);
      const results: ReplayResult[] = [];
      channel.subscribe(client(old).stream, { onReplay: (r) => results.push(r) });
      const fresh = client(recent);
      channel.subscribe(fresh.stream, { onReplay: (r) => results.push(r) });
      expect(results.map((r) => r.status)).toEqual(['unknown', 'replayed']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('applies filters to replayed events too', async () => {
    const channel = createChannel({ history: 10 });
    const [first] = await fill(channel, 1);
    await channel.broadcast({ event: 'secret', data: 's' }, { filter: () => false });
    await channel.broadcast({ event: 'other', data: 'o' });
    await channel.broadcast({ event: 'wanted', data: 'w' });
    const { sink, stream } = client(first);
    channel.subscribe(stream, { filter: (message) => message.event !== 'other' });
    expect(received(sink).map((e) => e.event)).toEqual(['wanted']);
  });

  it('with a slow store, events published during the replay come once, in order, with no gap', async () => {
    const memory = createMemoryStore({ limit: 1000 });
    let releaseSince!: () => void;
    const gate = new Promise<void>((resolve) => (releaseSince = resolve));
    // A store whose history read takes time, like a network store.
    const slow: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener) => memory.listen(listener),
      since: async (id) => {
        const snapshotNow = memory.since(id) as ChannelEvent[] | null;
        await gate;
        return snapshotNow;
      },
    };
    const channel = createChannel({ store: slow });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await channel.broadcast(`m${n}`));
    const { sink, stream } = client(ids[1]);
    channel.subscribe(stream);
    // Published while the history read is in flight: m5 and m6 are not in the snapshot.
    for (let n = 5; n < 7; n++) await channel.broadcast(`m${n}`);
    expect(sink.text).toBe(':\n\n'); // only the comment at open
    releaseSince();
    await vi.waitFor(() => expect(received(sink)).toHaveLength(5));
    await channel.broadcast('m7');
    expect(received(sink).map((e) => e.data)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('removes the overlap when the history read already contains live events', async () => {
    const memory = createMemoryStore({ limit: 1000 });
    let releaseSince!: () => void;
    const gate = new Promise<void>((resolve) => (releaseSince = resolve));
    const lagging: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener) => memory.listen(listener),
      since: async (id) => {
        await gate;
        return memory.since(id); // read after the live events were published
      },
    };
    const channel = createChannel({ store: lagging });
    const first = await channel.broadcast('m0');
    const { sink, stream } = client(first);
    channel.subscribe(stream);
    await channel.broadcast('m1');
    await channel.broadcast('m2');
    releaseSince();
    await vi.waitFor(() => expect(received(sink).length).toBeGreaterThanOrEqual(2));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received(sink).map((e) => e.data)).toEqual(['m1', 'm2']);
  });

  it('does not resend events up to the client\'s own id that a lagging live path delivers during the read', async () => {
    const memory = createMemoryStore({ limit: 1000 });
    // Live delivery that lags behind the history, like a reader tailing a remote log.
    const held: ChannelEvent[] = [];
    const listeners = new Set<(event: ChannelEvent) => void>();
    memory.listen((event) => held.push(event));
    const flush = (): void => {
      for (const event of held.splice(0)) for (const listener of listeners) listener(event);
    };
    let releaseSince!: () => void;
    const gate = new Promise<void>((resolve) => (releaseSince = resolve));
    const lagging: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      since: async (id) => {
        await gate;
        return memory.since(id);
      },
    };
    const channel = createChannel({ store: lagging });
    await channel.broadcast('m0');
    flush();
    await channel.broadcast('m1');
    const seenElsewhere = await channel.broadcast('m2'); // a client got it from another instance
    const { sink, stream } = client(seenElsewhere);
    channel.subscribe(stream);
    flush(); // m1 and m2 arrive live while the history is read
    releaseSince();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await channel.broadcast('m3');
    flush();
    await vi.waitFor(() => expect(received(sink).length).toBeGreaterThanOrEqual(1));
    expect(received(sink).map((e) => e.data)).toEqual(['m3']);
  });

  it('reports a failing history read and continues with live events', async () => {
    const memory = createMemoryStore();
    const onError = vi.fn();
    const broken: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener) => memory.listen(listener),
      since: () => Promise.reject(new Error('history down')),
    };
    const channel = createChannel({ store: broken, onError });
    const results: ReplayResult[] = [];
    const { sink, stream } = client('x');
    channel.subscribe(stream, { onReplay: (r) => results.push(r) });
    await vi.waitFor(() => expect(results).toHaveLength(1));
    expect(results[0]).toMatchObject({ status: 'error', lastEventId: 'x' });
    await channel.broadcast('live');
    expect(received(sink).map((e) => e.event ?? e.data)).toEqual(['sse-gap', 'live']);
  });

  it('refuses a second subscription of the same stream (it would get every event twice); after unsubscribing it may join again', async () => {
    const channel = createChannel();
    const { sink, stream } = client();
    const leave = channel.subscribe(stream);
    let error: unknown;
    try {
      channel.subscribe(stream, { filter: () => true });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SseError);
    expect(error).toMatchObject({ code: 'ERR_SSE_ALREADY_SUBSCRIBED', message: expect.stringMatching(/unsubscribe/) });
    expect(channel.size).toBe(1);
    await channel.broadcast('once');
    leave();
    channel.subscribe(stream);
    await channel.broadcast('again');
    expect(received(sink).map((e) => e.data)).toEqual(['once', 'again']);
    // Another channel is another matter.
    createChannel().subscribe(stream);
  });

  it('after close(): subscribe throws and broadcast rejects with ERR_SSE_CHANNEL_CLOSED (and tells onError); close() again is a no-op', async () => {
    const onError = vi.fn();
    const channel = createChannel({ history: 10, onError });
    await channel.close();
    await channel.close();
    expect(() => channel.subscribe(client().stream)).toThrow(expect.objectContaining({ code: 'ERR_SSE_CHANNEL_CLOSED' }));
    await expect(channel.broadcast('nobody hears this')).rejects.toMatchObject({ code: 'ERR_SSE_CHANNEL_CLOSED', message: expect.stringMatching(/closed/) });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'ERR_SSE_CHANNEL_CLOSED' }));
  });

  it('close() removes every subscriber and leaves their streams open', async () => {
    const channel = createChannel();
    const { stream } = client();
    channel.subscribe(stream);
    await channel.close();
    expect(channel.size).toBe(0);
    expect(stream.isClosed).toBe(false);
  });
});

describe('createMemoryStore', () => {
  it('rejects invalid bounds with a typed error', () => {
    expect(() => createMemoryStore({ limit: -1 })).toThrow(SseError);
    expect(() => createMemoryStore({ limit: 1.5 })).toThrow(SseError);
    expect(() => createMemoryStore({ maxAgeMs: 0 })).toThrow(SseError);
  });

  it('keeps at most limit events and issues ids no other process would', () => {
    const a = createMemoryStore({ limit: 3 });
    const b = createMemoryStore({ limit: 3 });
    const events = Array.from({ length: 5 }, (_, n) => a.publish({ data: String(n), json: false }) as ChannelEvent);
    expect(a.since(events[1]!.id)).toBeNull();
    expect((a.since(events[2]!.id) as ChannelEvent[]).map((e) => e.data)).toEqual(['3', '4']);
    expect(b.since(events[3]!.id)).toBeNull();
  });
});

describe('channel.recent', () => {
  it('lists the newest events still kept, oldest first, with the broadcast values', async () => {
    const channel = createChannel<{ note: { text: string } }>({ history: 3 });
    for (let n = 0; n < 5; n++) await channel.broadcast({ event: 'note', data: { text: `n${n}` } });
    await channel.broadcast('plain');
    const recent = await channel.recent(10);
    expect(recent.map((m) => m.data)).toEqual([{ text: 'n3' }, { text: 'n4' }, 'plain']);
    expect(recent.map((m) => m.event)).toEqual(['note', 'note', undefined]);
    expect((await channel.recent(1)).map((m) => m.data)).toEqual(['plain']);
  });

  it('is empty without history, and refuses a bad count', async () => {
    const channel = createChannel();
    await channel.broadcast('x');
    expect(await channel.recent(5)).toEqual([]);
    await expect(channel.recent(0)).rejects.toThrow(SseError);
  });

  it('deserializes events that came from elsewhere', async () => {
    const memory = createMemoryStore({ limit: 10 });
    await memory.publish({ data: '{"from":"other instance"}', json: true });
    await memory.publish({ data: 'raw text', json: false });
    const channel = createChannel({ store: { publish: memory.publish, listen: memory.listen, since: memory.since, recent: memory.recent! } });
    expect((await channel.recent(5)).map((m) => m.data)).toEqual([{ from: 'other instance' }, 'raw text']);
  });
});

describe('unsubscribing from onReplay', () => {
  it('sends nothing more, not even events that arrived during the history read', async () => {
    const memory = createMemoryStore({ limit: 100 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const channel = createChannel({
      store: {
        publish: memory.publish,
        listen: memory.listen,
        since: async (id) => {
          const snapshot = memory.since(id); // taken before the live event below
          await gate;
          return snapshot;
        },
      },
    });
    const first = await channel.broadcast('m0');
    const { sink, stream } = client(first);
    const unsubscribe = channel.subscribe(stream, { onReplay: () => unsubscribe() });
    await channel.broadcast('during the read');
    release();
    await vi.waitFor(() => expect(channel.size).toBe(0));
    await channel.broadcast('after');
    expect(received(sink)).toEqual([]);
  });
});
