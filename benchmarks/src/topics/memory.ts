// One round of "memory per idle topic", in a process of its own (started by main.ts with
// --expose-gc): heap per topic of the in-memory store with history and with a stream, and what
// a topic costs once it was freed (≈ 0).
import { armedTimers, countingSink, heapAfterGc, report } from './probes.js';

const { createMemoryTopicStore, createTopicHub } = await import('@sse/core');
const { createEventStream } = await import('@sse/core/adapter');

const topics = Number(process.env.TOPICS ?? 100_000);
const event = { event: 'message', data: { text: 'hello' } } as const;
const counter = { writes: 0, bytes: 0 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Heap per topic of `topics` topics with `events` events of history each, nobody subscribed. */
async function withHistory(events: number): Promise<{ bytesPerTopic: number; historyBytesPerTopic: number }> {
  const store = createMemoryTopicStore({ historyLimit: 100 });
  const hub = createTopicHub({ store });
  const before = heapAfterGc();
  for (let i = 0; i < topics; i++) for (let e = 0; e < events; e++) void hub.publish(`room:${i}`, event);
  const after = heapAfterGc();
  const result = { bytesPerTopic: (after - before) / topics, historyBytesPerTopic: store.historyBytes / topics };
  await hub.close();
  return result;
}

/**
 * Heap per topic held by a stream (32 topics per stream, no event yet: hub, store and the
 * stream's share), then what is left once every topic was freed: the history aged out, the
 * streams closed, and the topics' epoch and offset dropped (`historyMetaTtlMs: 0`).
 */
async function subscribedThenFreed(): Promise<{ subscribedBytesPerTopic: number; freedBytesPerTopic: number; storeTopicsLeft: number; hubTopicsLeft: number; timersLeft: number }> {
  const maxAgeMs = 500;
  const store = createMemoryTopicStore({ historyLimit: 100, historyMaxAgeMs: maxAgeMs, historyMetaTtlMs: 0 });
  const hub = createTopicHub({ store });
  const before = heapAfterGc();
  const streams = Array.from({ length: Math.ceil(topics / 32) }, () => createEventStream(countingSink(counter), { keepAlive: false }));
  await Promise.all(Array.from({ length: topics }, (_, i) => hub.subscribe(streams[i >> 5]!, [`room:${i}`])));
  const subscribed = heapAfterGc();
  for (let i = 0; i < topics; i++) void hub.publish(`room:${i}`, event);
  for (const stream of streams) stream.close();
  streams.length = 0;
  await sleep(maxAgeMs + 100);
  void store.since('room:none'); // a read trims: what aged out is freed now, not at the store's next timer
  const freed = heapAfterGc();
  const result = {
    subscribedBytesPerTopic: (subscribed - before) / topics,
    freedBytesPerTopic: (freed - before) / topics,
    storeTopicsLeft: store.size,
    hubTopicsLeft: hub.topicCount,
    timersLeft: armedTimers.size,
  };
  await hub.close();
  return result;
}

report({
  topics,
  history1: await withHistory(1),
  history10: await withHistory(10),
  ...(await subscribedThenFreed()),
});
