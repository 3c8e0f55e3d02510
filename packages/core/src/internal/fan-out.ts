/** Streams written per turn of the event loop by one fan-out, unless a hub says otherwise. */
export const DEFAULT_WRITES_PER_TURN = 512;

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
 * once, without a copy of its targets.
 */
export class FanOut<T> {
  readonly #perTurn: number;
  readonly #jobs: Array<Job<T>> = [];
  #head = 0;

  constructor(perTurn: number) {
    this.#perTurn = perTurn;
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
    if (this.pending === 1) this.#step();
  }

  readonly #step = (): void => {
    let budget = this.#perTurn;
    while (budget > 0 && this.#head < this.#jobs.length) {
      const job = this.#jobs[this.#head]!;
      const end = Math.min(job.targets.length, job.index + budget);
      for (let i = job.index; i < end; i++) job.visit(job.targets[i]!);
      budget -= end - job.index;
      job.index = end;
      if (end === job.targets.length) {
        this.#head++;
        job.done?.();
      }
    }
    if (this.#head === this.#jobs.length) {
      this.#jobs.length = 0;
      this.#head = 0;
    } else {
      defer(this.#step);
    }
  };
}
