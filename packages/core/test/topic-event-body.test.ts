// Each event's bytes are encoded once and kept with the event: the memory store's own events
// carry them, any other event (a wrapping store's copy, Redis) is encoded from its own fields.
import { describe, expect, it } from 'vitest';
import { createMemoryTopicStore, createTopicHub, type EventStream, type TopicEvent, type TopicStore } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { routedEvents } from './topic-client.js';

function client(lastEventId?: string): { sink: MemorySink; stream: EventStream } {
  const sink = new MemorySink();
  return { sink, stream: createEventStream(sink, { keepAlive: false, lastEventId }) };
}

/** The id line of one event's chunk. */
const idOf = (chunk: Uint8Array): string => /id: ([^\n]+)\n/.exec(new TextDecoder().decode(chunk))![1]!;

/** A store in front of the memory store that hands out copies of its events with other data, as a transforming store would. */
function redactingStore(async: boolean): TopicStore {
  const inner = createMemoryTopicStore();
  const redact = (event: TopicEvent): TopicEvent => ({ ...event, data: event.data.replace('secret', '[redacted]') });
  return {
    publish: (topic, input) => {
      const stored = inner.publish(topic, input) as TopicEvent;
      return async ? Promise.resolve(stored) : stored;
    },
    since: async (topic, offset) => {
      const history = await inner.since(topic, offset);
      return history.status === 'ok' ? { ...history, events: history.events.map(redact) } : history;
    },
    listen: (topic, listener) => inner.listen(topic, (event) => listener(redact(event))),
  };
}

describe('topic event bytes', () => {
  for (const async of [false, true]) {
    it(`a copy of a stored event is sent with its own data, live and in a replay (${async ? 'async' : 'sync'} store); publish resolves with the position`, async () => {
      const hub = createTopicHub({ store: redactingStore(async) });
      const live = client();
      await hub.subscribe(live.stream, ['room:1']);
      expect(await hub.publish('room:1', { data: 'first' })).toMatchObject({ offset: 1 });
      expect(await hub.publish('room:1', { data: 'a secret' })).toMatchObject({ offset: 2 });
      expect(routedEvents(live.sink.chunks)).toEqual(['room:1/message/"first"', 'room:1/message/"a [redacted]"']);
      // Resumed after the first event: the replay is encoded from the copies too.
      const resumed = client(idOf(live.sink.chunks.find((chunk) => new TextDecoder().decode(chunk).includes('first'))!));
      await hub.subscribe(resumed.stream, ['room:1']);
      expect(routedEvents(resumed.sink.chunks)).toEqual(['room:1/message/"a [redacted]"']);
    });
  }

  it("the memory store's own events are sent as published, live and replayed, across many topics", async () => {
    const hub = createTopicHub();
    const streams = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = client();
        await hub.subscribe(c.stream, [`t${i}`]);
        return c;
      }),
    );
    for (let round = 0; round < 3; round++) for (let i = 0; i < 20; i++) void hub.publish(`t${i}`, { data: { i, round } });
    streams.forEach(({ sink }, i) => expect(routedEvents(sink.chunks)).toEqual([0, 1, 2].map((round) => `t${i}/message/${JSON.stringify({ i, round })}`)));
    // Resumed after t7's first event: rounds 1 and 2 again, from history.
    const late = client(idOf(streams[7]!.sink.chunks.find((chunk) => new TextDecoder().decode(chunk).includes('"round":0'))!));
    await hub.subscribe(late.stream, ['t7']);
    expect(routedEvents(late.sink.chunks)).toEqual([1, 2].map((round) => `t7/message/${JSON.stringify({ i: 7, round })}`));
  });
});
