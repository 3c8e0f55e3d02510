import { checkOption } from './check-option.js';

/** Keeps a timer from holding the process open (Node, Bun); a no-op where timers are numbers. */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * A value shortened or spread by a random fraction: `direction` -1 shortens only (lifetimes),
 * 0 spreads either way (retry delays). Checks both numbers first.
 */
export function jittered(value: number, jitter: number, name: string, jitterName: string, direction: -1 | 0): number {
  checkOption.milliseconds(name, value);
  checkOption.fraction(jitterName, jitter);
  if (jitter === 0) return value;
  const offset = direction === -1 ? -Math.random() * jitter : (Math.random() * 2 - 1) * jitter;
  return Math.max(0, value * (1 + offset));
}
