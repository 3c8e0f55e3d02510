// The closing line of `npm test`, "N passed, N failed", from the vitest JSON report each package
// writes to test-results/vitest.json (see vitest.shared.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Counts one report. Each failing test counts once, wherever it sits: vitest's own
 * `numFailedTestSuites` also counts every `describe` around a failing test, so it is not used.
 * A file that failed with no failing test in it (it did not load, or a hook threw) counts once,
 * and so does each error raised outside any test (`unhandledErrors`, added by vitest.shared.ts).
 * @param {{ testResults?: Array<{ name: string, status: string, message?: string, assertionResults?: Array<{ fullName: string, status: string }> }>, unhandledErrors?: string[] }} report
 * @returns {{ passed: number, failed: number, failures: string[] }} `failures` names each failure.
 */
export function countReport(report) {
  let passed = 0;
  const failures = [];
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    passed += tests.filter((test) => test.status === 'passed').length;
    const failing = tests.filter((test) => test.status === 'failed');
    for (const test of failing) failures.push(`${file.name} > ${test.fullName}`);
    if (file.status === 'failed' && failing.length === 0) failures.push(`${file.name}: ${file.message || 'failed outside its tests'}`);
  }
  for (const error of report.unhandledErrors ?? []) failures.push(`unhandled error: ${error.split('\n')[0]}`);
  return { passed, failed: failures.length, failures };
}

/**
 * Totals over the reports of `dirs`, folders whose tests ran. A missing report (vitest crashed,
 * or never ran) counts as one failure.
 * @param {string[]} dirs folders holding test-results/vitest.json
 * @param {string} root paths in `failures` are relative to it
 */
export function summarize(dirs, root) {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const total = { passed: 0, failed: 0, failures: /** @type {string[]} */ ([]) };
  for (const dir of dirs) {
    const file = join(dir, 'test-results', 'vitest.json');
    const { passed, failures } = existsSync(file)
      ? countReport(JSON.parse(readFileSync(file, 'utf8')))
      : { passed: 0, failures: [`${dir}/: no test report (${relative(dir, file)}); its test run did not finish`] };
    total.passed += passed;
    total.failed += failures.length;
    total.failures.push(...failures.map((failure) => failure.replaceAll(prefix, '')));
  }
  return total;
}
