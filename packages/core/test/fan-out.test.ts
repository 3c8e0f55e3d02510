// A publish (or a channel's broadcast) to many streams is written in slices of `writesPerTurn`, one slice per turn of the
// event loop: other work runs in between, and every stream still gets every event once, in order.
import { describe, expect, it } from 'vitest';
import { createChannel, createMemoryStore, createTopicHub, SseError, type ChannelStore, type EventStream } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';
import { routedEvents } from './topic-client.js';

function client(): { sink: MemorySink; stream: EventStream } {
  const sink = new MemorySink();
  return { sink, stream: createEventStream(sink, { keepAlive: false }) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits turn by turn (at most `turns`) until `done()`. */
async function turnsUntil(done: () => boolean, turns = 1_000): Promise<number> {
  for (let turn = 1; turn <= turns; turn++) {
    await nextTurn();
    if (done()) return turn;
  }
  throw new Error(`not done after ${turns} turns`);
}

async function subscribed(hub: ReturnType<typeof createTopicHub>, count: number, topic = 'room:1'): Promise<Array<ReturnType<typeof client>>> {
  const clients = Array.from({ length: count }, client);
  await Promise.all(clients.map(({ stream }) => hub.subscribe(stream, [topic])));
  return clients;
}

const got = (clients: Array<ReturnType<typeof client>>, value: string): number => clients.filter(({ sink }) => routedEvents(sink.chunks).includes(value)).length;

describe('topic hub: fan-out in slices', () => {
  it('writes writesPerTurn streams at once and the rest on later turns, with a task queued after the publish run in between', async () => {
    const hub = createTopicHub({ writesPerTurn: 100 });
    const clients = await subscribed(hub, 1_000);
    void hub.publish('room:1', { data: 1 });
    expect(got(clients, 'room:1/message/1')).toBe(100);
    // Queued after the publish's next slice: it runs once that slice is written, long before the last.
    const seenByOtherWork = await new Promise<number>((resolve) => setImmediate(() => resolve(got(clients, 'room:1/message/1'))));
    expect(seenByOtherWork).toBe(200);
    const turns = await turnsUntil(() => got(clients, 'room:1/message/1') === 1_000);
    expect(turns).toBeLessThanOrEqual(9);
  });

  it('a topic with no more subscribers than writesPerTurn is written at once', async () => {
    const hub = createTopicHub({ writesPerTurn: 100 });
    const clients = await subscribed(hub, 100);
    void hub.publish('room:1', { data: 1 });
    expect(got(clients, 'room:1/message/1')).toBe(100);
  });

  it('publishes started during a sliced fan-out reach every stream once, in publish order, across topics', async () => {
    const hub = createTopicHub({ writesPerTurn: 64 });
    const many = await subscribed(hub, 500, 'room:1');
    const both = client();
    await hub.subscribe(both.stream, ['room:1', 'room:2']);
    for (let i = 1; i <= 5; i++) {
      void hub.publish('room:1', { data: i });
      void hub.publish('room:2', { data: -i });
    }
    await turnsUntil(() => routedEvents(both.sink.chunks).length === 10 && got(many, 'room:1/message/5') === 500);
    const expected = [1, 2, 3, 4, 5].map((i) => `room:1/message/${i}`);
    for (const { sink } of many) expect(routedEvents(sink.chunks)).toEqual(expected);
    expect(routedEvents(both.sink.chunks)).toEqual([1, 2, 3, 4, 5].flatMap((i) => [`room:1/message/${i}`, `room:2/message/${-i}`]));
  });

  it('a stream that leaves during a sliced fan-out gets nothing more; one that joins gets what follows, once', async () => {
    const hub = createTopicHub({ writesPerTurn: 50 });
    const clients = await subscribed(hub, 300);
    void hub.publish('room:1', { data: 1 });
    const leaver = clients[299]!;
    hub.unsubscribe(leaver.stream, ['room:1']);
    const closer = clients[298]!;
    closer.stream.close();
    const joiner = client();
    await hub.subscribe(joiner.stream, ['room:1']);
    void hub.publish('room:1', { data: 2 });
    await turnsUntil(() => got(clients.slice(0, 298), 'room:1/message/2') === 298);
    expect(routedEvents(leaver.sink.chunks)).toEqual([]);
    expect(routedEvents(closer.sink.chunks)).toEqual([]);
    expect(routedEvents(joiner.sink.chunks)).toEqual(['room:1/message/2']);
  });

  it('publishes queued faster than they are written are bounded: past 1,024 slices the publisher writes what it adds, and nothing is lost', async () => {
    const hub = createTopicHub({ writesPerTurn: 2 });
    const clients = await subscribed(hub, 100);
    const delivered = (): number => clients.reduce((sum, { sink }) => sum + routedEvents(sink.chunks).length, 0);
    for (let i = 1; i <= 50; i++) void hub.publish('room:1', { data: i });
    // 5,000 writes started in one turn: at most 1,024 slices of 2 wait.
    expect(5_000 - delivered()).toBeLessThanOrEqual(2_048);
    expect(5_000 - delivered()).toBeGreaterThan(0);
    await turnsUntil(() => delivered() === 5_000, 2_000);
    const expected = Array.from({ length: 50 }, (_, i) => `room:1/message/${i + 1}`);
    for (const { sink } of clients) expect(routedEvents(sink.chunks)).toEqual(expected);
  });

  it('one publish larger than the bound is still written in slices', async () => {
    const hub = createTopicHub({ writesPerTurn: 1 });
    const clients = await subscribed(hub, 1_100);
    void hub.publish('room:1', { data: 1 });
    expect(got(clients, 'room:1/message/1')).toBe(1);
    await turnsUntil(() => got(clients, 'room:1/message/1') === 1_100, 1_200);
  });

  it('rejects a writesPerTurn that is not a positive integer', () => {
    for (const writesPerTurn of [0, -1, 1.5, Number.NaN]) {
      expect(() => createTopicHub({ writesPerTurn })).toThrow(SseError);
      try {
        createTopicHub({ writesPerTurn });
      } catch (error) {
        expect((error as SseError).code).toBe('ERR_SSE_OPTION');
      }
    }
  });
});

describe('channel (deprecated): broadcast in slices', () => {
  const data = (sink: MemorySink): string[] => parseChunks(sink.chunks).events.map((event) => event.data);

  it('writes writesPerTurn streams at once, the rest on later turns; broadcasts stay in order; a leaver gets nothing more', async () => {
    const channel = createChannel({ writesPerTurn: 100, history: 10 });
    const clients = Array.from({ length: 450 }, client);
    for (const { stream } of clients) channel.subscribe(stream);
    await channel.broadcast('a');
    expect(clients.filter(({ sink }) => data(sink).includes('a')).length).toBe(100);
    const leaver = clients[449]!;
    leaver.stream.close();
    await channel.broadcast('b');
    // b waits behind a: nobody has b before a reached everyone.
    expect(clients.filter(({ sink }) => data(sink).includes('b')).length).toBe(0);
    await turnsUntil(() => clients.slice(0, 449).every(({ sink }) => data(sink).length === 2));
    for (const { sink } of clients.slice(0, 449)) expect(data(sink)).toEqual(['a', 'b']);
    expect(data(leaver.sink)).toEqual([]);
  });

  it('a stream replaying when a sliced broadcast starts gets it once, in its replay, not again from the slices', async () => {
    // A store whose history answers only when told: the broadcast starts while the replay waits.
    const memory = createMemoryStore({ limit: 10 });
    let answer: (() => void) | undefined;
    const store: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener, onGap) => memory.listen(listener, onGap),
      since: (id) => new Promise((resolve) => (answer = () => resolve(memory.since(id)))),
    };
    const channel = createChannel({ writesPerTurn: 10, store });
    const clients = Array.from({ length: 50 }, client);
    for (const { stream } of clients) channel.subscribe(stream);
    const first = await channel.broadcast({ id: 'e1', data: 'one' });
    await turnsUntil(() => clients.every(({ sink }) => data(sink).length === 1));
    const sink = new MemorySink();
    const resuming = createEventStream(sink, { keepAlive: false, lastEventId: first });
    const subscribed = channel.subscribe(resuming);
    await channel.broadcast({ id: 'e2', data: 'two' });
    // The history now holds e2, and the replay ends before the slices reach the resuming stream.
    answer!();
    await subscribed;
    await turnsUntil(() => clients.every(({ sink: other }) => data(other).length === 2));
    for (let turn = 0; turn < 5; turn++) await nextTurn();
    expect(data(sink)).toEqual(['two']);
  });

  it('broadcasts queued faster than they are written are bounded, and every stream gets every one in order', async () => {
    const channel = createChannel({ writesPerTurn: 2 });
    const clients = Array.from({ length: 100 }, client);
    for (const { stream } of clients) channel.subscribe(stream);
    const delivered = (): number => clients.reduce((sum, { sink }) => sum + data(sink).length, 0);
    const sent = Array.from({ length: 50 }, (_, i) => String(i));
    await Promise.all(sent.map((value) => channel.broadcast(value)));
    expect(5_000 - delivered()).toBeLessThanOrEqual(2_048);
    await turnsUntil(() => delivered() === 5_000, 2_000);
    for (const { sink } of clients) expect(data(sink)).toEqual(sent);
  });

  it('rejects a writesPerTurn that is not a positive integer', () => {
    expect(() => createChannel({ writesPerTurn: 0 })).toThrow(/writesPerTurn/);
  });
});
