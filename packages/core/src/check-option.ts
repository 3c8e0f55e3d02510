import { SseError } from './errors.js';

/** Throws the `ERR_SSE_OPTION` every option check shares: what was expected, and what came. */
function fail(name: string, expected: string, value: unknown): never {
  throw new SseError('ERR_SSE_OPTION', `${name} must be ${expected}, got ${String(value)}`);
}

/**
 * The checks behind every option of the core: each returns the value when it is valid and throws
 * `SseError` `ERR_SSE_OPTION` ("`name` must be …, got …") when it is not.
 */
export const checkOption = {
  /** An integer ≥ 0 (counts, seconds). */
  nonNegativeInteger(name: string, value: number): number {
    if (!Number.isSafeInteger(value) || value < 0) fail(name, 'a non-negative integer', value);
    return value;
  },
  /** An integer ≥ 1 (caps). */
  positiveInteger(name: string, value: number): number {
    if (!Number.isSafeInteger(value) || value < 1) fail(name, 'a positive integer', value);
    return value;
  },
  /** A finite number of milliseconds ≥ 0. */
  milliseconds(name: string, value: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(name, 'a non-negative number of milliseconds', value);
    return value;
  },
  /** A finite number of milliseconds > 0. */
  positiveMilliseconds(name: string, value: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) fail(name, 'a positive number of milliseconds', value);
    return value;
  },
  /** A number ≥ 0 (byte bounds; `Infinity` allowed). */
  nonNegativeNumber(name: string, value: number): number {
    if (typeof value !== 'number' || !(value >= 0)) fail(name, 'a non-negative number', value);
    return value;
  },
  /** A number > 0 (byte bounds that cannot be zero; `Infinity` allowed). */
  positiveNumber(name: string, value: number): number {
    if (typeof value !== 'number' || !(value > 0)) fail(name, 'a positive number', value);
    return value;
  },
  /** A fraction from 0 to 1. */
  fraction(name: string, value: number): number {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(name, 'a fraction from 0 to 1', value);
    return value;
  },
  /** A function; `expected` says what it is for (and what to pass instead of nothing). */
  callback<T>(name: string, value: T, expected = 'a function'): T {
    if (typeof value !== 'function') fail(name, expected, value);
    return value;
  },
  /** One of a fixed list of values. */
  oneOf<T extends string | number>(name: string, value: T, allowed: readonly T[]): T {
    if (!allowed.includes(value)) fail(name, allowed.map((item) => (typeof item === 'string' ? `'${item}'` : String(item))).join(' or '), value);
    return value;
  },
};
