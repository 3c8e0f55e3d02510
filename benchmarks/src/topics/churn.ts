// One round of "1,000,000 topics churned through one process", in a process of its own (started
// by main.ts with --expose-gc): streams come, each joins 4 topics never used before, gets one
// event on each, and leaves, 1,000 streams at a time. Heap is read before, during (after a GC,
// every 250,000 topics), right after, and once the store's retention for resumers has passed;
// then what is left: topics, streams, store listeners, armed timers, abort listeners. Then a
// second pass of 1,000,000 other topics, and the heap once its retention passed too.
// A timer the store arms for its history is part of the count while it holds some (`atEnd`).
import { getEventListeners } from 'node:events';
import { armedTimers, countingSink, heapAfterGc, report } from './probes.js';

const { createMemoryTopicStore, createTopicHub } = await import('@sse/core');
const { createEventStream } = await import('@sse/core/adapter');

const total = Number(process.env.TOPICS ?? 1_000_000);
const TOPICS_PER_STREAM = 4;
const STREAMS_AT_ONCE = 1000;
/**
 * History lives this long, and the epoch and offset kept for resumers as long again after it
 * (`historyMetaTtlMs` defaults to `historyMaxAgeMs`), so the end state is reached within the run.
 * `maxIdleTopics` keeps its default (100,000): it bounds the topics held meanwhile.
 */
const RETENTION_MS = 2000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const memory = createMemoryTopicStore({ historyMaxAgeMs: RETENTION_MS });
// Counts the hub's listeners on the store: every listen() must be undone.
let storeListeners = 0;
const store: typeof memory = {
  get size() {
    return memory.size;
  },
  get historyBytes() {
    return memory.historyBytes;
  },
  publish: (topic, input) => memory.publish(topic, input),
  since: (topic, offset) => memory.since(topic, offset),
  listen(topic, listener) {
    storeListeners++;
    const unlisten = memory.listen(topic, listener);
    return () => {
      storeListeners--;
      unlisten();
    };
  },
  close: () => memory.close?.(),
};
const hub = createTopicHub({ store });
const counter = { writes: 0, bytes: 0 };
// Every 1000th stream's abort signal, to see that its listeners are gone once it closed.
const sampledSignals: AbortSignal[] = [];

const timersBefore = armedTimers.size;
const before = heapAfterGc();
const during: number[] = [];
let maxStoreTopics = 0;
let next = 0;

/** Churns `total` topics never used before through the hub, 1,000 streams at a time. */
async function churn(record: boolean): Promise<void> {
  const end = next + total;
  let checkpoint = next + 250_000;
  for (let streamIndex = 0; next < end; ) {
    const batch = [];
    for (let i = 0; i < STREAMS_AT_ONCE && next < end; i++, streamIndex++) {
      const controller = new AbortController();
      if (streamIndex % 1000 === 0) sampledSignals.push(controller.signal);
      // Keep-alive on (the default): each stream arms a timer, which its close must clear.
      const stream = createEventStream(countingSink(counter, controller.signal));
      const names = Array.from({ length: Math.min(TOPICS_PER_STREAM, end - next) }, () => `t:${next++}`);
      batch.push(hub.subscribe(stream, names).then(() => ({ stream, names })));
    }
    for (const { stream, names } of await Promise.all(batch)) {
      await Promise.all(names.map((name) => hub.publish(name, { data: { n: 1 } })));
      stream.close();
    }
    maxStoreTopics = Math.max(maxStoreTopics, store.size);
    if (record && next >= checkpoint) {
      during.push(heapAfterGc());
      checkpoint += 250_000;
    }
  }
}

/** Waits until history and the epochs kept for resumers have expired, then reads the heap. */
async function afterRetention(): Promise<number> {
  await sleep(2 * RETENTION_MS + 300);
  void store.since('t:none'); // a read trims: what aged out is freed now
  return heapAfterGc();
}

const started = performance.now();
await churn(true);
const churnMs = performance.now() - started;
const afterChurn = heapAfterGc();
const atEnd = { storeTopics: store.size, hubTopics: hub.topicCount, hubStreams: hub.streamCount, storeListeners, timers: armedTimers.size - timersBefore };
const afterFirst = await afterRetention();
// A second pass of as many new topics: if anything were kept per topic, the heap would grow again by as much.
await churn(false);
const afterSecond = await afterRetention();

report({
  topics: total,
  churnMs,
  topicsPerSecond: total / (churnMs / 1000),
  heapBefore: before,
  heapDuring: during,
  heapAfterChurn: afterChurn,
  heapAfterRetention: afterFirst,
  heapAfterSecondPass: afterSecond,
  maxStoreTopics,
  atEnd,
  afterRetention: {
    storeTopics: store.size,
    hubTopics: hub.topicCount,
    hubStreams: hub.streamCount,
    storeListeners,
    timers: armedTimers.size - timersBefore,
    abortListeners: sampledSignals.reduce((sum, signal) => sum + getEventListeners(signal, 'abort').length, 0),
  },
  eventsWritten: counter.writes,
});
await hub.close();
