import { describe, it } from 'vitest';
import { CASE_GROUPS } from './cases/index.js';
import { runCaseTest, type CaseGroup } from './harness.js';
import type { ConformanceCase, ConformanceTarget } from './types.js';

/** Generous per-test limit: the cases wait on events, never on the clock, and CI machines are slow. */
const TEST_TIMEOUT_MS = 30_000;

/** The names of every case, for `skip` (and for tools that list them). */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = CASE_GROUPS.map((group) => group.name);

function checkTarget(target: ConformanceTarget): void {
  if (typeof target.name !== 'string' || target.name === '') throw new TypeError('runConformance: target.name must be a non-empty string');
  if (typeof target.mount !== 'function') throw new TypeError(`runConformance(${target.name}): target.mount must be a function`);
  for (const [name, reason] of Object.entries(target.skip ?? {})) {
    if (!(CONFORMANCE_CASES as readonly string[]).includes(name)) {
      throw new TypeError(`runConformance(${target.name}): unknown case "${name}" in skip; the cases are ${CONFORMANCE_CASES.join(', ')}`);
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new TypeError(`runConformance(${target.name}): skip.${name} needs a reason saying why the adapter cannot pass it`);
    }
  }
}

function registerGroup(target: ConformanceTarget, group: CaseGroup): void {
  describe(group.name, () => {
    const reason = target.skip?.[group.name];
    for (const test of group.tests) {
      if (reason !== undefined) {
        it.skip(`${test.title} [opted out: ${reason}]`, () => undefined);
      } else if (group.name === 'http2' && target.http2 === undefined) {
        it(test.title, () => {
          throw new Error(`${target.name} has no http2 mount: pass target.http2, or opt out with skip: { http2: 'why it cannot run on HTTP/2' }`);
        });
      } else {
        it(test.title, () => runCaseTest(target, test), TEST_TIMEOUT_MS);
      }
    }
  });
}

/**
 * Registers the whole conformance suite for one adapter as vitest tests (call it at the top
 * level of a test file). Every case starts real servers through `target.mount` and drives them
 * over real sockets with real clients.
 */
export function runConformance(target: ConformanceTarget): void {
  checkTarget(target);
  describe(`@sse/conformance: ${target.name}`, () => {
    for (const group of CASE_GROUPS) registerGroup(target, group);
  });
}
