import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { countReport, summarize } from '../summary.mjs';

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, 'fixtures');
const vitest = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'vitest');

type Report = Parameters<typeof countReport>[0] & { numFailedTests: number; numFailedTestSuites: number };

/** The part of the report about one fixture file, without the run's unhandled errors. */
function only(report: Report, fixture: string): Report {
  return { ...report, testResults: (report.testResults ?? []).filter((file) => file.name.endsWith(`/${fixture}.fixture.ts`)), unhandledErrors: [] };
}

describe('the closing count of npm test, on the report of a real vitest run', () => {
  let report: Report;

  beforeAll(async () => {
    // Vitest on the fixtures with the repo's shared config (its reporters included), as turbo runs it.
    rmSync(join(fixtures, 'test-results'), { recursive: true, force: true });
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
    await run(vitest, ['run'], { cwd: fixtures, env }).catch((error: { code?: unknown }) => {
      if (error.code !== 1) throw error; // 1: tests failed, as the fixtures mean to
    });
    report = JSON.parse(readFileSync(join(fixtures, 'test-results', 'vitest.json'), 'utf8')) as Report;
  });

  it('counts passing tests, and a file of them as no failure', () => {
    expect(countReport(only(report, 'passing'))).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('counts a failing test once, however many describe blocks are around it', () => {
    expect(countReport(only(report, 'failing'))).toMatchObject({
      passed: 1,
      failed: 1,
      failures: [expect.stringMatching(/failing\.fixture\.ts > outer inner fails$/)],
    });
  });

  it('counts a test that timed out once', () => {
    expect(countReport(only(report, 'timing-out'))).toMatchObject({
      passed: 0,
      failed: 1,
      failures: [expect.stringMatching(/timing-out\.fixture\.ts > a test that never settles times out$/)],
    });
  });

  it('counts a file that fails to load once', () => {
    expect(countReport(only(report, 'not-loading'))).toMatchObject({
      passed: 0,
      failed: 1,
      failures: [expect.stringMatching(/not-loading\.fixture\.ts: this file fails to load$/)],
    });
  });

  it('counts an error raised outside any test, which vitest\'s own JSON report leaves out', () => {
    expect(countReport(only(report, 'unhandled'))).toEqual({ passed: 1, failed: 0, failures: [] });
    expect(report.unhandledErrors).toEqual([expect.stringMatching(/^Error: thrown outside any test\n/)]);
  });

  it('adds up the whole run: 4 failures, where vitest\'s numFailedTests + numFailedTestSuites make 8', () => {
    // Vitest counts the file and each describe around a failing test as failed suites.
    expect(report).toMatchObject({ numFailedTests: 2, numFailedTestSuites: 6 });
    expect(countReport(report)).toMatchObject({ passed: 4, failed: 4 });
  });

  it('totals the reports of several folders, a folder without one counting as a failure', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sse-summary-'));
    try {
      const total = summarize([fixtures, empty], import.meta.dirname);
      expect(total).toMatchObject({ passed: 4, failed: 5 });
      expect(total.failures).toContain('fixtures/failing.fixture.ts > outer inner fails');
      expect(total.failures.at(-1)).toBe(`${empty}/: no test report (test-results/vitest.json); its test run did not finish`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
