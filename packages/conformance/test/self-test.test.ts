import { describe, expect, it } from 'vitest';
import { CASE_GROUPS } from '../src/cases/index.js';
import { runCaseGroup } from '../src/harness.js';
import { CONFORMANCE_CASES, runConformance, type ConformanceCase } from '../src/index.js';
import { target, type Flaw } from './test-sink.js';

function group(name: ConformanceCase) {
  const found = CASE_GROUPS.find((g) => g.name === name);
  if (found === undefined) throw new Error(`no case ${name}`);
  return found;
}

const FLAWS: Array<[Exclude<Flaw, 'none'>, ConformanceCase, RegExp]> = [
  ['splits-events', 'whole-events', /chunks that end inside an event/],
  ['ignores-backpressure', 'backpressure-disconnect', /stayed open/],
  ['sends-connection-on-http2', 'http2', /process warnings/],
  ['skips-option-check', 'topics-option', /instead of rejecting/],
];

describe('the suite can fail', () => {
  it.each(FLAWS)('catches a sink that %s (case %s)', async (flaw, name, message) => {
    await expect(runCaseGroup(target(flaw), group(name))).rejects.toThrow(message);
  });

  it('passes the same sink without the flaw on those cases', async () => {
    for (const [, name] of FLAWS) await runCaseGroup(target('none'), group(name));
  });
});

describe('runConformance', () => {
  it('names every case once', () => {
    expect(new Set(CONFORMANCE_CASES).size).toBe(CONFORMANCE_CASES.length);
    expect(CONFORMANCE_CASES).toContain('backpressure-disconnect');
  });

  it('refuses an opt-out without a reason, or of a case that does not exist', () => {
    const base = target('none');
    expect(() => runConformance({ ...base, skip: { http2: '  ' } })).toThrow(/skip\.http2 needs a reason/);
    expect(() => runConformance({ ...base, skip: { 'no-such-case': 'why' } as never })).toThrow(/unknown case "no-such-case"/);
    expect(() => runConformance({ ...base, name: '' })).toThrow(/target.name/);
  });
});
