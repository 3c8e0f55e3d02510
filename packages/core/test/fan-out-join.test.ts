// Publishes that queue up behind a sliced fan-out (the machine writes slower than they come) are
// joined: a stream visited for several of them at once gets their frames in one write to its
// connection, instead of one write each. Nothing else may change: every stream still gets every
// event once, in publish order, each frame whole, and no write grows past what the batch allows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChannel, createTopicHub, type EventStream } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { FanOut, MAX_JOINED_FAN_OUTS } from '../src/internal/fan-out.js';
import { kBeginBatch, kEndBatch, type InternalStream } from '../src/internal/protocol.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';
import { routedEvents } from './topic-client.js';

function client(): { sink: MemorySink; stream: EventStream } {
  const sink = new MemorySink();
  return { sink, stream: createEventStream(sink, { keepAlive: false }) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function turnsUntil(done: () => boolean, turns = 2_000): Promise<void> {
  for (let turn = 1; turn <= turns; turn++) {
    await nextTurn();
    if (done()) return;
  }
  throw new Error(`not done after ${turns} turns`);
}

/** Every chunk a sink got is whole frames: it ends with a blank line and parses without a remainder. */
function expectWholeFrames(sink: MemorySink): void {
  for (const chunk of sink.chunks) {
    const text = new TextDecoder().decode(chunk);
    expect(text.endsWith('\n\n')).toBe(true);
  }
}

describe('topic hub: publishes queued to one topic are joined', () => {
  it('ten publishes queued behind a sliced fan-out reach each of 300 streams in order, in fewer writes than events', async () => {
    const hub = createTopicHub({ writesPerTurn: 50 });
    const clients = Array.from({ length: 300 }, client);
    await Promise.all(clients.map(({ stream }) => hub.subscribe(stream, ['room:1'])));
    const before = clients.map(({ sink }) => sink.chunks.length);
    for (let i = 1; i <= 10; i++) void hub.publish('room:1', { data: i });
    const expected = Array.from({ length: 10 }, (_, i) => `room:1/message/${i + 1}`);
    await turnsUntil(() => clients.every(({ sink }) => routedEvents(sink.chunks).length === 10));
    let writes = 0;
    for (const [index, { sink }] of clients.entries()) {
      expect(routedEvents(sink.chunks)).toEqual(expected);
      expectWholeFrames(sink);
      writes += sink.chunks.length - before[index]!;
    }
    // One write per event and stream would be 3,000; the 50 streams of the first slice got the
    // first publish alone, the rest joined.
    expect(writes).toBeLessThan(3_000 / 2);
  });

  it('a joined write stays within the batch size: 4 KB events leave four to a write, each whole', async () => {
    const hub = createTopicHub({ writesPerTurn: 10 });
    const clients = Array.from({ length: 40 }, client);
    await Promise.all(clients.map(({ stream }) => hub.subscribe(stream, ['room:1'])));
    const big = 'x'.repeat(4_000);
    for (let i = 0; i < 12; i++) void hub.publish('room:1', { data: `${i}${big}` });
    await turnsUntil(() => clients.every(({ sink }) => routedEvents(sink.chunks).length === 12));
    for (const { sink } of clients) {
      expectWholeFrames(sink);
      for (const chunk of sink.chunks) expect(chunk.byteLength).toBeLessThanOrEqual(16 * 1024);
      expect(parseChunks(sink.chunks).events.map((event) => (event.data.match(/"(\d+)/) ?? [])[1])).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    }
    // Some stream got several events in one write.
    expect(clients.some(({ sink }) => sink.chunks.some((chunk) => chunk.byteLength > 8_000))).toBe(true);
  });

  it('a stream whose connection fills during a joined write queues the rest, and gets all of it when it drains', async () => {
    const hub = createTopicHub({ writesPerTurn: 20 });
    const clients = Array.from({ length: 100 }, client);
    await Promise.all(clients.map(({ stream }) => hub.subscribe(stream, ['room:1'])));
    const slow = clients[99]!;
    slow.sink.accepting = false;
    for (let i = 1; i <= 30; i++) void hub.publish('room:1', { data: i });
    await turnsUntil(() => clients.slice(0, 99).every(({ sink }) => routedEvents(sink.chunks).length === 30));
    expect(slow.stream.bufferedBytes).toBeGreaterThan(0);
    slow.sink.drain();
    const expected = Array.from({ length: 30 }, (_, i) => `room:1/message/${i + 1}`);
    expect(routedEvents(slow.sink.chunks)).toEqual(expected);
  });

  it('a subscriber that joins or leaves between queued publishes ends the join: each stream still gets exactly its own publishes', async () => {
    const hub = createTopicHub({ writesPerTurn: 25 });
    const clients = Array.from({ length: 200 }, client);
    await Promise.all(clients.map(({ stream }) => hub.subscribe(stream, ['room:1'])));
    void hub.publish('room:1', { data: 1 });
    void hub.publish('room:1', { data: 2 });
    const joiner = client();
    await hub.subscribe(joiner.stream, ['room:1']);
    const leaver = clients[150]!;
    void hub.publish('room:1', { data: 3 });
    hub.unsubscribe(leaver.stream, ['room:1']);
    void hub.publish('room:1', { data: 4 });
    const all = [1, 2, 3, 4].map((n) => `room:1/message/${n}`);
    const others = clients.filter((other) => other !== leaver);
    await turnsUntil(() => others.every(({ sink }) => routedEvents(sink.chunks).length === 4));
    for (let i = 0; i < 30; i++) await nextTurn();
    for (const { sink } of others) expect(routedEvents(sink.chunks)).toEqual(all);
    // It left before the slices reached it: nothing of what was still on its way, and nothing after.
    expect(routedEvents(leaver.sink.chunks)).toEqual([]);
    expect(routedEvents(joiner.sink.chunks)).toEqual(['room:1/message/3', 'room:1/message/4']);
  });
});

describe('channel (deprecated): broadcasts queued are joined', () => {
  it('twenty broadcasts queued to 400 streams arrive whole and in order, in fewer writes than events', async () => {
    const channel = createChannel({ writesPerTurn: 40 });
    const clients = Array.from({ length: 400 }, client);
    for (const { stream } of clients) channel.subscribe(stream);
    const sent = Array.from({ length: 20 }, (_, i) => `e${i}`);
    for (const value of sent) void channel.broadcast(value);
    const data = (sink: MemorySink): string[] => parseChunks(sink.chunks).events.map((event) => event.data);
    await turnsUntil(() => clients.every(({ sink }) => data(sink).length === 20));
    let writes = 0;
    for (const { sink } of clients) {
      expect(data(sink)).toEqual(sent);
      expectWholeFrames(sink);
      writes += sink.chunks.length;
    }
    expect(writes).toBeLessThan(8_000 / 2);
  });
});

describe('a stream batching writes', () => {
  const data = (sink: MemorySink): string[] => parseChunks(sink.chunks).events.map((event) => event.data);

  it('sends what was written during the batch in one write at its end; a close in between still sends it before the end', () => {
    const { sink, stream } = client();
    const internal = stream as unknown as InternalStream;
    const opened = sink.chunks.length;
    internal[kBeginBatch]();
    stream.send('a');
    stream.send('b');
    expect(sink.chunks.length).toBe(opened);
    internal[kEndBatch]();
    expect(sink.chunks.length).toBe(opened + 1);
    expect(data(sink)).toEqual(['a', 'b']);

    internal[kBeginBatch]();
    stream.send('c');
    stream.close();
    internal[kEndBatch]();
    expect(data(sink)).toEqual(['a', 'b', 'c']);
    expect(sink.closedWith).toBe('close');
  });

  it('a batch past 16 KiB is written as it goes, each write whole frames; a full connection queues the rest within the stream bound', () => {
    const { sink, stream } = client();
    const internal = stream as unknown as InternalStream;
    const opened = sink.chunks.length;
    internal[kBeginBatch]();
    for (let i = 0; i < 10; i++) stream.send(`${i}${'x'.repeat(3_000)}`);
    // 30 KB: one write of five frames went out when the sixth would pass 16 KiB.
    expect(sink.chunks.length).toBe(opened + 1);
    sink.accepting = false;
    internal[kEndBatch]();
    expect(sink.chunks.length).toBe(opened + 2);
    stream.send('after');
    expect(stream.bufferedBytes).toBeGreaterThan(0);
    sink.drain();
    expectWholeFrames(sink);
    expect(data(sink).map((value) => value.slice(0, 5))).toEqual([...Array.from({ length: 10 }, (_, i) => `${i}xxxx`), 'after']);
  });
});

describe('FanOut: joined sweeps', () => {
  type Step = { kind: 'run'; list: number; reentrant: boolean } | { kind: 'turn' };

  it('every target is visited once per fan-out, in the order the fan-outs started, and each done comes after its last visit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('run' as const), list: fc.integer({ min: 0, max: 2 }), reentrant: fc.boolean() }),
            fc.record({ kind: fc.constant('turn' as const) }),
          ),
          { maxLength: 40 },
        ),
        async (perTurn, steps: Step[]) => {
          // Three target lists: two overlapping, one of a single target; the same array each time, so runs join.
          const lists: number[][] = [[0, 1, 2, 3, 4, 5, 6, 7, 8], [6, 7, 8, 9, 10], [3]];
          const fanOut = new FanOut<number>(perTurn, { maxQueued: perTurn * 4, batch: { begin: () => batches.push('('), end: () => batches.push(')') } });
          const batches: string[] = [];
          const seen = new Map<number, number[]>();
          const expected = new Map<number, number[]>();
          const visited = new Map<number, number>();
          const done: number[] = [];
          let next = 0;
          const start = (list: number, reentrant: boolean): void => {
            const id = next++;
            for (const target of lists[list]!) expected.set(target, [...(expected.get(target) ?? []), id]);
            let nested = reentrant;
            fanOut.run(
              lists[list]!,
              (target) => {
                seen.set(target, [...(seen.get(target) ?? []), id]);
                visited.set(id, (visited.get(id) ?? 0) + 1);
                // A publish from inside a visit (a handler reacting to an event): it queues behind.
                if (nested) {
                  nested = false;
                  start(list, false);
                }
              },
              () => {
                expect(visited.get(id)).toBe(lists[list]!.length);
                done.push(id);
              },
            );
          };
          for (const step of steps) {
            if (step.kind === 'turn') await nextTurn();
            else start(step.list, step.reentrant);
          }
          for (let turn = 0; turn < 500 && fanOut.pending > 0; turn++) await nextTurn();
          expect(fanOut.pending).toBe(0);
          expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort());
          for (const [target, ids] of expected) expect(seen.get(target)).toEqual(ids);
          expect(done.length).toBe(next);
          expect(batches.join('')).toMatch(/^(\(\))*$/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it(`joins at most ${MAX_JOINED_FAN_OUTS} fan-outs into one visit of a target, and visits each target once per fan-out`, async () => {
    const targets = Array.from({ length: 10 }, (_, i) => i);
    let inBatch = -1;
    let widest = 0;
    const fanOut = new FanOut<number>(5, {
      batch: {
        begin: () => (inBatch = 0),
        end: () => {
          widest = Math.max(widest, inBatch);
          inBatch = -1;
        },
      },
    });
    const counts = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      fanOut.run(targets, (target) => {
        counts.set(target, (counts.get(target) ?? 0) + 1);
        if (inBatch >= 0) inBatch++;
      });
      if (i % 3 === 0) await nextTurn();
    }
    await turnsUntil(() => fanOut.pending === 0);
    for (const target of targets) expect(counts.get(target)).toBe(200);
    expect(widest).toBe(MAX_JOINED_FAN_OUTS);
  });
});
