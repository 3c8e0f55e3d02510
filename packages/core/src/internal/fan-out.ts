/** Streams written per turn of the event loop by one fan-out, unless a hub says otherwise. */
export const DEFAULT_WRITES_PER_TURN = 512;

/**
 * Fan-outs queued behind the one being written may hold at most this many slices' visits (at the
 * default 512 per turn, 524,288 visits: 4 MiB of references to their targets). It absorbs bursts,
 * dozens of publishes to a 10,000-stream topic in a row, without blocking the loop. Past
 * it, a publish makes the visits it adds at once (the oldest queued first): an app that publishes
 * to a large topic faster than the machine writes is held back by its own publish, as without
 * slicing, instead of queueing copies of the topic's subscribers without bound.
 */
export const QUEUED_SLICES = 1_024;

type Defer = (task: () => void) => void;

// setImmediate where there is one (Node, Bun, Deno): it runs after the I/O that came in meanwhile.
// Elsewhere (Workers, browsers) a zero timeout, which yields as well.
const immediate = (globalThis as { setImmediate?: (task: () => void) => unknown }).setImmediate;
const defer: Defer = immediate === undefined ? (task) => void setTimeout(task, 0) : (task) => void immediate(task);

interface Job<T> {
  readonly targets: readonly T[];
  index: number;
  readonly visit: (target: T) => void;
  readonly done: (() => void) | undefined;
}

/**
 * Runs fan-outs in slices: at most `perTurn` visits per turn of the event loop, the rest on the
 * next turns, so a publish to 10,000 streams does not keep other requests waiting for all of
 * them. Fan-outs run in the order they were started, each over the targets it was started with,
 * so every target sees them in that order. One that fits a slice while nothing waits runs at
 * once, without a copy of its targets. The visits queued are bounded (`maxQueued`, beyond the
 * first fan-out): a fan-out that goes past the bound is paid for at once, in order.
 */
export class FanOut<T> {
  readonly #perTurn: number;
  readonly #maxQueued: number;
  readonly #jobs: Array<Job<T>> = [];
  #head = 0;
  /** Visits left in the queued fan-outs. */
  #queued = 0;
  #scheduled = false;
  #running = false;

  constructor(perTurn: number, maxQueued = perTurn * QUEUED_SLICES) {
    this.#perTurn = perTurn;
    this.#maxQueued = maxQueued;
  }

  /** Fan-outs started and not yet finished. */
  get pending(): number {
    return this.#jobs.length - this.#head;
  }

  /** Whether a fan-out over `count` targets would run at once, whole. */
  fits(count: number): boolean {
    return this.pending === 0 && count <= this.#perTurn;
  }

  /**
   * Visits every target (a set is copied when the fan-out is sliced; an array is used as it is and
   * must not change), then calls `done`.
   */
  run(targets: ReadonlySet<T> | readonly T[], visit: (target: T) => void, done?: () => void): void {
    const count = Array.isArray(targets) ? targets.length : (targets as ReadonlySet<T>).size;
    if (this.fits(count)) {
      for (const target of targets) visit(target);
      done?.();
      return;
    }
    this.#jobs.push({ targets: Array.isArray(targets) ? targets : [...targets], index: 0, visit, done });
    this.#queued += count;
    if (this.#running) return; // the slice being written reaches this one, in order
    // Past the bound, the publisher writes what it adds (the oldest first) before it goes on.
    if (this.pending > 1 && this.#queued > this.#maxQueued) this.#work(this.#queued - this.#maxQueued);
    else if (!this.#scheduled) this.#work(this.#perTurn);
  }

  /** Makes up to `budget` visits from the head of the queue, then defers the rest to the next turn. */
  #work(budget: number): void {
    this.#running = true;
    try {
      while (budget > 0 && this.#head < this.#jobs.length) {
        const job = this.#jobs[this.#head]!;
        const end = Math.min(job.targets.length, job.index + budget);
        for (let i = job.index; i < end; i++) job.visit(job.targets[i]!);
        budget -= end - job.index;
        this.#queued -= end - job.index;
        job.index = end;
        if (end === job.targets.length) {
          this.#jobs[this.#head] = undefined as unknown as Job<T>; // its targets can go now
          this.#head++;
          job.done?.();
        }
      }
    } finally {
      this.#running = false;
    }
    if (this.#head === this.#jobs.length) {
      this.#jobs.length = 0;
      this.#head = 0;
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      defer(this.#step);
    }
  }

  readonly #step = (): void => {
    this.#scheduled = false;
    this.#work(this.#perTurn);
  };
}
