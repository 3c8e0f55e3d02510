/** How a timed command is sent; see {@link CommandTimeout.run}. */
export interface TimedCommand {
  /** Defaults to the connection's command timeout. */
  timeoutMs?: number;
  /**
   * Keep waiting for the answer after the deadline, only reporting the stall (the reader: a late
   * answer to its `XREAD` is still its next batch, and asking again would queue behind it).
   * Otherwise the command rejects at its deadline.
   */
  patient?: boolean;
  /** The error a command that missed its deadline rejects with (and the stall is reported with). */
  timeoutError: () => Error;
}

/**
 * Gives every command on one connection a deadline, and tells when Redis stopped answering
 * (a command went past its deadline) and when it answers again. The connection stays up: a
 * frozen Redis (`SIGSTOP`, a long `DEBUG SLEEP`, a swapping host) keeps its sockets open, so
 * only a deadline notices it. A command that missed its deadline stays in flight until Redis
 * answers it or the connection drops; answers come in order, so the stall is over once every
 * overdue command has been answered.
 */
export class CommandTimeout {
  readonly timeoutMs: number;
  readonly #onStall: (error: Error) => void;
  readonly #onRecover: () => void;
  #overdue = 0;

  constructor(timeoutMs: number, onStall: (error: Error) => void, onRecover: () => void) {
    this.timeoutMs = timeoutMs;
    this.#onStall = onStall;
    this.#onRecover = onRecover;
  }

  /** `true` while a command that missed its deadline has not been answered. */
  get stalled(): boolean {
    return this.#overdue > 0;
  }

  run<T>(send: () => Promise<T>, command: TimedCommand): Promise<T> {
    const pending = send();
    return new Promise<T>((resolve, reject) => {
      let overdue = false;
      const timer = setTimeout(() => {
        overdue = true;
        const error = command.timeoutError();
        if (++this.#overdue === 1) this.#onStall(error);
        if (command.patient !== true) reject(error);
      }, command.timeoutMs ?? this.timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        if (overdue && --this.#overdue === 0) this.#onRecover();
      };
      pending.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }
}
