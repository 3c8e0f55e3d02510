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

/**
 * At most this many fan-outs over the same targets are joined into one sweep (see
 * {@link FanOut.run}): a target visited for all of them at once gets their frames in one write.
 */
export const MAX_JOINED_FAN_OUTS = 16;

type Defer = (task: () => void) => void;

// setImmediate where there is one (Node, Bun, Deno): it runs after the I/O that came in meanwhile.
// Elsewhere (Workers, browsers) a zero timeout, which yields as well.
const immediate = (globalThis as { setImmediate?: (task: () => void) => unknown }).setImmediate;
const defer: Defer = immediate === undefined ? (task) => void setTimeout(task, 0) : (task) => void immediate(task);

/** Brackets the visits one target gets for several fan-outs at once (a stream batches their writes into one). */
export interface VisitBatch<T> {
  begin(target: T): void;
  end(target: T): void;
}

interface Visitor<T> {
  readonly visit: (target: T) => void;
  readonly done: (() => void) | undefined;
  /** The sweep's visit count at which this fan-out has visited every target once. */
  readonly endsAt: number;
}

/**
 * One sweep over a list of targets, round and round from where it is, for as long as a fan-out
 * joined to it has targets left: a fan-out that joins it starts at the sweep's position and
 * ends one round later, so each of its targets is visited once, and in the order the fan-outs
 * joined (a target is visited for every fan-out joined before the sweep gets to it).
 */
interface Sweep<T> {
  readonly targets: readonly T[];
  /** The next target to visit. */
  index: number;
  /** Targets visited so far, in all rounds. */
  visited: number;
  readonly visitors: Array<Visitor<T>>;
  /** The first visitor not done yet. */
  first: number;
}

/**
 * Runs fan-outs in slices: at most `perTurn` visits per turn of the event loop, the rest on the
 * next turns, so a publish to 10,000 streams does not keep other requests waiting for all of
 * them. Fan-outs run in the order they were started, each over the targets it was started with,
 * so every target sees them in that order. One that fits a slice while nothing waits runs at
 * once, without a copy of its targets. The visits queued are bounded (`maxQueued`, beyond the
 * first fan-out): a fan-out that goes past the bound is paid for at once, in order.
 *
 * A fan-out over the same array of targets as the last one queued (a topic or a channel whose
 * subscribers did not change) joins it: from then on both go target by target together, and a
 * target visited for several fan-outs at once is bracketed by `batch`, so its stream writes their
 * frames to the connection in one write instead of one each. Publishes that queue up because the
 * machine cannot write them as fast as they come thus cost fewer writes each, and every target
 * gets each one as soon as, or sooner than, it would have one after the other.
 */
export class FanOut<T> {
  readonly #perTurn: number;
  readonly #maxQueued: number;
  readonly #batch: VisitBatch<T> | undefined;
  readonly #sweeps: Array<Sweep<T>> = [];
  #head = 0;
  /** Visits left in the queued fan-outs. */
  #queued = 0;
  /** Fan-outs queued and not yet finished. */
  #pending = 0;
  #scheduled = false;
  #running = false;

  constructor(perTurn: number, options: { maxQueued?: number; batch?: VisitBatch<T> } = {}) {
    this.#perTurn = perTurn;
    this.#maxQueued = options.maxQueued ?? perTurn * QUEUED_SLICES;
    this.#batch = options.batch;
  }

  /** Fan-outs started and not yet finished. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether a fan-out over `count` targets would run at once, whole. */
  fits(count: number): boolean {
    return this.#pending === 0 && count <= this.#perTurn && !this.#running;
  }

  /**
   * Visits every target (a set is copied when the fan-out is sliced; an array is used as it is and
   * must not change), then calls `done`. Pass the same array again for the same targets: the
   * fan-outs are then joined (see the class).
   */
  run(targets: ReadonlySet<T> | readonly T[], visit: (target: T) => void, done?: () => void): void {
    const count = Array.isArray(targets) ? targets.length : (targets as ReadonlySet<T>).size;
    if (this.fits(count)) {
      // A fan-out started from inside one of these visits queues behind this one.
      this.#running = true;
      try {
        for (const target of targets) visit(target);
      } finally {
        this.#running = false;
      }
      done?.();
      if (this.#head < this.#sweeps.length && !this.#scheduled) this.#work(this.#perTurn);
      return;
    }
    const last = this.#head < this.#sweeps.length ? this.#sweeps[this.#sweeps.length - 1]! : undefined;
    if (last !== undefined && last.targets === targets && last.visitors.length - last.first < MAX_JOINED_FAN_OUTS) {
      last.visitors.push({ visit, done, endsAt: last.visited + count });
    } else {
      const list = Array.isArray(targets) ? (targets as readonly T[]) : [...targets];
      this.#sweeps.push({ targets: list, index: 0, visited: 0, visitors: [{ visit, done, endsAt: count }], first: 0 });
    }
    this.#pending++;
    this.#queued += count;
    if (this.#running) return; // the slice being written reaches this one, in order
    // Past the bound, the publisher writes what it adds (the oldest first) before it goes on.
    if (this.#pending > 1 && this.#queued > this.#maxQueued) this.#work(this.#queued - this.#maxQueued);
    else if (!this.#scheduled) this.#work(this.#perTurn);
  }

  /** Makes up to `budget` visits from the head of the queue, then defers the rest to the next turn. */
  #work(budget: number): void {
    this.#running = true;
    try {
      while (budget > 0 && this.#head < this.#sweeps.length) {
        const sweep = this.#sweeps[this.#head]!;
        budget = this.#advance(sweep, budget);
        if (sweep.first === sweep.visitors.length) {
          this.#sweeps[this.#head] = undefined as unknown as Sweep<T>; // its targets can go now
          this.#head++;
        }
      }
    } finally {
      this.#running = false;
    }
    if (this.#head === this.#sweeps.length) {
      this.#sweeps.length = 0;
      this.#head = 0;
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      defer(this.#step);
    }
  }

  /** Visits targets of one sweep until the budget is spent or every fan-out in it is done; returns the budget left. */
  #advance(sweep: Sweep<T>, budget: number): number {
    const { targets, visitors } = sweep;
    const size = targets.length;
    while (budget > 0 && sweep.first < visitors.length) {
      // A fan-out over no targets (or one whose round is over) is done before the next visit.
      if (visitors[sweep.first]!.endsAt <= sweep.visited) {
        this.#finish(sweep);
        continue;
      }
      const target = targets[sweep.index]!;
      // Visitors that join during these visits (a publish from inside one) visit this target too.
      const from = sweep.first;
      if (visitors.length - from === 1 || this.#batch === undefined) {
        for (let i = from; i < visitors.length; i++) visitors[i]!.visit(target);
      } else {
        this.#batch.begin(target);
        try {
          for (let i = from; i < visitors.length; i++) visitors[i]!.visit(target);
        } finally {
          this.#batch.end(target);
        }
      }
      const made = visitors.length - from;
      budget -= made;
      this.#queued -= made;
      sweep.visited++;
      sweep.index = sweep.index + 1 === size ? 0 : sweep.index + 1;
    }
    while (sweep.first < visitors.length && visitors[sweep.first]!.endsAt <= sweep.visited) this.#finish(sweep);
    return budget;
  }

  #finish(sweep: Sweep<T>): void {
    const visitors = sweep.visitors;
    const visitor = visitors[sweep.first]!;
    sweep.first++;
    // A sweep that publishes keep joining can run for ever: drop the finished from its list.
    if (sweep.first >= MAX_JOINED_FAN_OUTS && sweep.first * 2 >= visitors.length) {
      visitors.splice(0, sweep.first);
      sweep.first = 0;
    } else {
      visitors[sweep.first - 1] = undefined as unknown as Visitor<T>;
    }
    this.#pending--;
    visitor.done?.();
  }

  readonly #step = (): void => {
    this.#scheduled = false;
    this.#work(this.#perTurn);
  };
}
