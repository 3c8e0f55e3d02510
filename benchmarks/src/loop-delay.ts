/**
 * How long the event loop was held: a 1 ms timer that records how late each of its turns came.
 * `monitorEventLoopDelay` is not used: it does not record one long synchronous block as such
 * (a 50 ms block shows as ~12 ms there), and a long block is what a broadcast may cause.
 */
import { percentile } from './stats.js';

export interface LoopDelay {
  /** The longest the event loop was blocked since the window started, ms (a 1 ms timer's lateness). */
  maxMs: number;
  p99Ms: number;
  /** Timer turns in the window. */
  samples: number;
}

/** Up to ten minutes of 1 ms samples; beyond that, the first samples are kept. */
const MAX_SAMPLES = 600_000;

export class LoopDelayMonitor {
  readonly #delays = new Float64Array(MAX_SAMPLES);
  #count = 0;
  #max = 0;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;

  /** Starts a new window (and the timer, the first time). */
  reset(): void {
    this.#count = 0;
    this.#max = 0;
    this.#last = performance.now();
    if (this.#timer !== undefined) return;
    const tick = (): void => {
      const now = performance.now();
      const delay = Math.max(0, now - this.#last - 1);
      this.#last = now;
      if (delay > this.#max) this.#max = delay;
      if (this.#count < MAX_SAMPLES) this.#delays[this.#count++] = delay;
      this.#timer = setTimeout(tick, 1).unref();
    };
    this.#timer = setTimeout(tick, 1).unref();
  }

  /** The window so far, the lateness of a turn still pending (a block in progress) included. */
  read(): LoopDelay {
    const pending = Math.max(0, performance.now() - this.#last - 1);
    const max = Math.max(this.#max, pending);
    const sorted = this.#delays.slice(0, this.#count).sort();
    return { maxMs: max, p99Ms: this.#count === 0 ? 0 : percentile(sorted, 99), samples: this.#count };
  }
}
