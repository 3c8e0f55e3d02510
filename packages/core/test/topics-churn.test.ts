// Topics come and go all day: churning many through one hub must leave nothing behind — no
// topic in the hub or the store, no history bytes, no timer, and the heap back near where it was.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryTopicStore, createTopicHub } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Counts the timers created since `track()` that are still pending. `getActiveResourcesInfo()`
 * does not list unref'd timers (the store's are), so setTimeout is wrapped, passing through.
 */
function trackTimers(): () => number {
  const created: Array<{ _destroyed?: boolean }> = [];
  const original = globalThis.setTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
    const timer = original(...args);
    created.push(timer as unknown as { _destroyed?: boolean });
    return timer;
  }) as typeof setTimeout);
  return () => created.filter((timer) => timer._destroyed !== true).length;
}

async function eventually(condition: () => boolean, what: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached before the hang guard: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('topic hub: churn', () => {
  it('100,000 topics subscribed, published to and left leave no topic, byte, timer or heap behind', async () => {
    const TOPICS = 100_000;
    const store = createMemoryTopicStore({ historyLimit: 4, historyMaxAgeMs: 50, historyMetaTtlMs: 50 });
    const hub = createTopicHub({ store });
    const timeouts = trackTimers();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    // 32 topics per stream (the default maximum), each stream closed once its topics got an event.
    for (let base = 0; base < TOPICS; base += 32) {
      const sink = new MemorySink();
      const stream = createEventStream(sink, { keepAlive: false });
      const names = Array.from({ length: Math.min(32, TOPICS - base) }, (_, i) => `room:${base + i}`);
      await hub.subscribe(stream, names);
      for (const name of names) void hub.publish(name, { event: 'message', data: { n: 1 } });
      // Half the streams leave their topics first, the others just go away.
      if ((base / 32) % 2 === 0) hub.unsubscribe(stream, names);
      sink.disconnect();
    }
    expect(hub.topicCount).toBe(0);
    expect(hub.streamCount).toBe(0);
    expect(store.size).toBeGreaterThan(0); // history and epochs are still kept for resumers…
    expect(timeouts()).toBe(1); // …with one sweep timer for all of them
    await eventually(
      () => store.size === 0 && timeouts() === 0,
      () => `${store.size} topics in the store, ${store.historyBytes} history bytes, ${timeouts()} timers`,
    );
    expect(store.historyBytes).toBe(0);
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    // Near the baseline: far below what 100,000 kept topics would hold (several hundred bytes each).
    expect(grown).toBeLessThan(TOPICS * 50);
  });
});
