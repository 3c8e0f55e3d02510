// Exact multi-topic resume, as a property: whatever is published over k topics, wherever the
// client is cut, its Last-Event-ID (the last id its EventSource holds) brings back exactly what
// it missed on each of its topics, or a gap for the topics the history no longer covers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTopicHub } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { lastEventIdOf, routedEvents } from './topic-client.js';

const TOPICS = ['user:1', 'room:a', 'room:b', 'doc:x', 'user:2'];

function client(lastEventId?: string) {
  const sink = new MemorySink();
  return { sink, stream: createEventStream(sink, { keepAlive: false, lastEventId }) };
}

const scenario = fc.record({
  topics: fc.shuffledSubarray(TOPICS, { minLength: 1 }),
  reorder: fc.boolean(),
  before: fc.array(fc.nat(TOPICS.length - 1), { maxLength: 10 }),
  during: fc.array(fc.nat(TOPICS.length - 1), { maxLength: 30 }),
  after: fc.array(fc.nat(TOPICS.length - 1), { maxLength: 30 }),
  cutAt: fc.nat(30),
});

describe('topic hub: exact resume (property)', () => {
  it('replays exactly the missed events of every topic, in publish order, with history enough', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ topics, reorder, before, during, after, cutAt }) => {
        const hub = createTopicHub({ historyLimit: 1000 });
        let n = 0;
        const publish = (index: number): string => {
          const topic = TOPICS[index]!;
          const data = n++;
          void hub.publish(topic, { data });
          return `${topic}/message/${data}`;
        };
        for (const index of before) publish(index);
        const first = client();
        await hub.subscribe(first.stream, topics);
        const cut = Math.min(cutAt, during.length);
        const wanted = (line: string) => topics.includes(line.split('/')[0]!);
        const seen = during.slice(0, cut).map(publish).filter(wanted);
        expect(routedEvents(first.sink.chunks)).toEqual(seen);
        first.sink.disconnect();
        const missed = [...during.slice(cut), ...after].map(publish).filter(wanted);

        const again = client(lastEventIdOf(first.sink.chunks));
        const statuses = await hub.subscribe(again.stream, reorder ? [...topics].reverse() : topics);
        expect(statuses.every((status) => status.status === 'resumed')).toBe(true);
        expect(routedEvents(again.sink.chunks)).toEqual(missed);
        // And live afterwards, each once.
        const live = TOPICS.map((_, index) => publish(index)).filter(wanted);
        expect(routedEvents(again.sink.chunks)).toEqual([...missed, ...live]);
        await hub.close();
      }),
      { numRuns: 300 },
    );
  });

  it('resumes each topic whose missed events are all still kept, and gaps exactly the others', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.nat(3), async ({ topics, before, during, after, cutAt }, historyLimit) => {
        const hub = createTopicHub({ historyLimit });
        let n = 0;
        const publish = (index: number): string => {
          const topic = TOPICS[index]!;
          const data = n++;
          void hub.publish(topic, { data });
          return `${topic}/message/${data}`;
        };
        for (const index of before) publish(index);
        const first = client();
        await hub.subscribe(first.stream, topics);
        const cut = Math.min(cutAt, during.length);
        during.slice(0, cut).forEach(publish);
        first.sink.disconnect();
        const missed = [...during.slice(cut), ...after].map(publish);

        const again = client(lastEventIdOf(first.sink.chunks));
        const statuses = await hub.subscribe(again.stream, topics);
        const got = routedEvents(again.sink.chunks);
        for (const topic of topics) {
          const missedHere = missed.filter((line) => line.startsWith(`${topic}/`));
          const status = statuses.find((entry) => entry.topic === topic)!;
          const gotHere = got.filter((line) => line.startsWith(`${topic}/`));
          if (missedHere.length <= historyLimit) {
            expect(status).toEqual({ topic, status: 'resumed', count: missedHere.length });
            expect(gotHere).toEqual(missedHere);
          } else {
            expect(status).toEqual({ topic, status: 'gap', reason: 'trimmed' });
            expect(gotHere).toEqual([]);
            expect(got.some((line) => line.startsWith('gap:trimmed:') && line.slice('gap:trimmed:'.length).split(',').includes(topic))).toBe(true);
          }
        }
        // Gaps come before any replayed event.
        const firstEvent = got.findIndex((line) => !line.startsWith('gap:'));
        expect(got.slice(firstEvent === -1 ? got.length : firstEvent).some((line) => line.startsWith('gap:'))).toBe(false);
        await hub.close();
      }),
      { numRuns: 300 },
    );
  });
});
