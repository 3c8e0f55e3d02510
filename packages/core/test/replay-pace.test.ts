// A replay (a topic hub's, a channel's) larger than what a stream may queue (`maxBufferedBytes`) must not be taken for a slow
// client: closing it would make the client resume, ask for the same replay, and be closed again,
// for ever. It goes at the client's pace instead, with the topic's live events held behind it.
import { describe, expect, it, vi } from 'vitest';
import { createChannel, createStreamRegistry, createTopicHub, type ReplayResult, type SlowClientInfo, type TopicHub } from '../src/index.js';
import { kTrack, type InternalStream } from '../src/internal/protocol.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';
import { lastEventIdOf, routedEvents } from './topic-client.js';

/** A client that reads a few frames at a time: every `every`-th write fills its connection until `drain()`. */
class SlowSink extends MemorySink {
  #writes = 0;
  constructor(private readonly every: number) {
    super();
  }
  override write(chunk: Uint8Array): boolean {
    super.write(chunk);
    if (++this.#writes % this.every === 0) this.accepting = false;
    return this.accepting;
  }
}

const TOPICS = ['room:a', 'room:b'];

/** Lets the hub's waiting replay go on (a drained stream wakes it through a promise). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Publishes 0, 1, 2… and returns each event as `routedEvents` shows it. */
function numbered(hub: TopicHub): (topic: string) => string {
  let n = 0;
  return (topic) => {
    const data = n++;
    void hub.publish(topic, { data });
    return `${topic}/message/${data}`;
  };
}

describe('topic hub: a replay at the client pace', () => {
  it('a replay 40 times the stream bound is written whole, in order, as the client reads; live events wait behind it', async () => {
    const hub = createTopicHub({ historyLimit: 10_000 });
    const publish = numbered(hub);
    const first = { sink: new MemorySink() };
    const firstStream = createEventStream(first.sink, { keepAlive: false });
    await hub.subscribe(firstStream, TOPICS);
    publish('room:a');
    first.sink.disconnect();
    const missed: string[] = [];
    // About 40 bytes of data and 60 of id per event: some 400 KB, against a bound of 10 KB.
    for (let i = 0; i < 2000; i++) missed.push(publish(TOPICS[i % 2]!), publish(TOPICS[(i + 1) % 2]!));

    const sink = new SlowSink(5);
    const stream = createEventStream(sink, { keepAlive: false, maxBufferedBytes: 10_000, lastEventId: lastEventIdOf(first.sink.chunks) });
    let statuses: unknown;
    const subscribed = hub.subscribe(stream, TOPICS).then((value) => (statuses = value));
    await turn();
    // Waiting for the client: five frames went out, nothing is queued past the bound.
    expect(statuses).toBeUndefined();
    expect(sink.chunks.length).toBe(5);
    expect(stream.bufferedBytes).toBe(0);
    // Published during the replay: sent after it, once.
    const live = [publish('room:b'), publish('room:a')];
    let drains = 0;
    while (statuses === undefined && drains < 10_000) {
      drains++;
      sink.drain();
      await turn();
    }
    await subscribed;
    expect(stream.isClosed).toBe(false);
    expect(drains).toBeGreaterThan(100);
    expect(statuses).toEqual([
      { topic: 'room:a', status: 'resumed', count: 2000 },
      { topic: 'room:b', status: 'resumed', count: 2000 },
    ]);
    sink.accepting = true;
    sink.drain();
    const after = [publish('room:a')];
    expect(routedEvents(sink.chunks)).toEqual([...missed, ...live, ...after]);
    await hub.close();
  });

  it('a client that stops reading during its replay, while the topic goes on, is closed as a slow client when a live event finds 10,000 waiting, and resumes from what it got', async () => {
    const hub = createTopicHub({ historyLimit: 20_000 });
    const publish = numbered(hub);
    const first = new MemorySink();
    await hub.subscribe(createEventStream(first, { keepAlive: false }), ['room:a']);
    publish('room:a');
    first.disconnect();
    const all: string[] = [];
    for (let i = 0; i < 100; i++) all.push(publish('room:a'));

    const sink = new SlowSink(3);
    const slow: SlowClientInfo[] = [];
    const stream = createEventStream(sink, { keepAlive: false, lastEventId: lastEventIdOf(first.chunks), onSlowClient: (info) => slow.push(info) });
    const registry = createStreamRegistry();
    (registry as unknown as { [kTrack](stream: InternalStream, key: undefined): void })[kTrack](stream as unknown as InternalStream, undefined);
    void hub.subscribe(stream, ['room:a']);
    await turn();
    expect(sink.chunks.length).toBe(3);
    for (let i = 0; i < 10_000; i++) all.push(publish('room:a'));
    expect(stream.isClosed).toBe(false);
    all.push(publish('room:a'));
    expect(stream.isClosed).toBe(true);
    expect(await stream.closed).toEqual({ reason: 'slow-client' });
    // Reported as a slow client, once, with what it had queued.
    expect(slow).toEqual([{ policy: 'disconnect', bufferedBytes: expect.any(Number), droppedEvents: 0, droppedBytes: 0 }]);
    expect(registry.counters().slowClients).toBe(1);
    expect(hub.streamCount).toBe(0); // nothing of it is held
    // The resume starts from the last event the client got: every event after it, then live.
    const got = routedEvents(sink.chunks);
    expect(got).toEqual(all.slice(0, got.length));
    const again = new MemorySink();
    const statuses = await hub.subscribe(createEventStream(again, { keepAlive: false, lastEventId: lastEventIdOf(sink.chunks) }), ['room:a']);
    expect(statuses).toEqual([{ topic: 'room:a', status: 'resumed', count: all.length - got.length }]);
    expect(routedEvents(again.chunks)).toEqual(all.slice(got.length));
    await hub.close();
  });
});

describe('topic hub: a replay that waits on a client that stopped reading', () => {
  it('ends with the stream when the client stalls (stallTimeoutMs): nothing of the replay stays held', async () => {
    vi.useFakeTimers();
    try {
      const hub = createTopicHub({ historyLimit: 1000 });
      const publish = numbered(hub);
      const first = new MemorySink();
      await hub.subscribe(createEventStream(first, { keepAlive: false }), ['room:a']);
      publish('room:a');
      first.disconnect();
      for (let i = 0; i < 500; i++) publish('room:a');
      const sink = new SlowSink(3);
      const stream = createEventStream(sink, { keepAlive: false, stallTimeoutMs: 1000, lastEventId: lastEventIdOf(first.chunks) });
      let statuses: unknown;
      void hub.subscribe(stream, ['room:a']).then((value) => (statuses = value));
      await vi.advanceTimersByTimeAsync(999);
      expect(stream.isClosed).toBe(false);
      expect(hub.streamCount).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(await stream.closed).toEqual({ reason: 'stalled' });
      expect(hub.streamCount).toBe(0);
      expect(hub.topicCount).toBe(0);
      // The replay gave up: subscribe still settles, with what was found.
      await vi.advanceTimersByTimeAsync(0);
      expect(statuses).toEqual([{ topic: 'room:a', status: 'resumed', count: 500 }]);
      await hub.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('channel: a replay at the client pace', () => {
  const data = (sink: MemorySink): string[] => parseChunks(sink.chunks).events.map((event) => event.data);

  it('a replay 30 times the stream bound is written whole, in order, as the client reads; live events wait behind it', async () => {
    const channel = createChannel({ history: 5000 });
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) ids.push(await channel.broadcast({ data: `m${i} ${'x'.repeat(80)}` }));
    const sink = new SlowSink(5);
    const stream = createEventStream(sink, { keepAlive: false, maxBufferedBytes: 10_000, lastEventId: ids[0] });
    const results: ReplayResult[] = [];
    channel.subscribe(stream, { onReplay: (result) => results.push(result) });
    expect(sink.chunks.length).toBe(5); // the comment at open, then four events: the connection is full
    expect(results).toEqual([]);
    void channel.broadcast('live 1');
    void channel.broadcast('live 2');
    let drains = 0;
    while (results.length === 0 && drains < 10_000) {
      drains++;
      sink.drain();
      await turn();
    }
    expect(stream.isClosed).toBe(false);
    expect(drains).toBeGreaterThan(100);
    expect(results).toEqual([{ status: 'replayed', lastEventId: ids[0], count: 2999 }]);
    sink.accepting = true;
    sink.drain();
    await channel.broadcast('after');
    const got = data(sink);
    expect(got.slice(0, 2999).map((line) => line.split(' ')[0])).toEqual(ids.slice(1).map((_, i) => `m${i + 1}`));
    expect(got.slice(2999)).toEqual(['live 1', 'live 2', 'after']);
    await channel.close();
  });

  it('a client that stops reading during its replay is closed as a slow client when a live event finds 10,000 waiting', async () => {
    const channel = createChannel({ history: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await channel.broadcast(`m${i}`));
    const sink = new SlowSink(3);
    const slow: SlowClientInfo[] = [];
    const stream = createEventStream(sink, { keepAlive: false, lastEventId: ids[0], onSlowClient: (info) => slow.push(info) });
    channel.subscribe(stream);
    for (let i = 0; i < 10_000; i++) void channel.broadcast(`live ${i}`);
    expect(stream.isClosed).toBe(false);
    void channel.broadcast('one more');
    expect(stream.isClosed).toBe(true);
    expect(await stream.closed).toEqual({ reason: 'slow-client' });
    expect(slow.length).toBe(1);
    expect(channel.size).toBe(0);
    await channel.close();
  });
});
