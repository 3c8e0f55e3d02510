// What the topics benchmarks read of the process they run in: heap after a full GC, timers still
// armed, listeners still attached. Imported before @sse, so every timer @sse arms is counted.
import type { SseSink } from '@sse/core/adapter';

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap used after two full GCs, in bytes (needs `--expose-gc`). */
export function heapAfterGc(): number {
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** The timers of this process that are armed now (`setTimeout` not yet fired or cleared, `setInterval` not cleared), unref'd ones included. */
export const armedTimers = new Set<unknown>();

// Node's own `getActiveResourcesInfo()` leaves out unref'd timers, which is what @sse arms: count them here instead.
{
  const { setTimeout: realSetTimeout, setInterval: realSetInterval, clearTimeout: realClearTimeout, clearInterval: realClearInterval } = globalThis;
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetTimeout(
      (...inner: unknown[]) => {
        armedTimers.delete(timer);
        callback(...inner);
      },
      ms,
      ...args,
    );
    armedTimers.add(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetInterval(callback, ms, ...args);
    armedTimers.add(timer);
    return timer;
  }) as typeof setInterval;
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    armedTimers.delete(timer);
    realClearTimeout(timer);
  }) as typeof clearTimeout;
  globalThis.clearInterval = ((timer: Parameters<typeof clearInterval>[0]) => {
    armedTimers.delete(timer);
    realClearInterval(timer);
  }) as typeof clearInterval;
}

/** Events (whole frames) and bytes written to the sinks of {@link countingSink}. */
export interface WriteCounter {
  writes: number;
  bytes: number;
}

/** A sink that takes everything at once and counts it: what a stream costs without a socket. */
export function countingSink(counter: WriteCounter, signal = new AbortController().signal): SseSink {
  return {
    signal,
    open() {},
    write(chunk) {
      counter.writes++;
      counter.bytes += chunk.byteLength;
      return true;
    },
    onDrain() {},
    close() {},
    abort() {},
  };
}

/** Prints the result for the parent (`main.ts`) as the last line of stdout. */
export function report(result: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
