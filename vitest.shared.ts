import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import type { SerializedError } from 'vitest';
import { JsonReporter, type TestModule } from 'vitest/node';

// Tests run against each package's TypeScript source (the `@sse/source` export condition),
// so no build is needed between an edit and a test run.
const conditions = ['@sse/source', ...defaultServerConditions];

/**
 * Vitest's JSON report, plus the errors raised outside any test (`unhandledErrors`, which the
 * stock report leaves out), so that the closing count of `npm test` (scripts/summary.mjs) sees them.
 */
class JsonReportWithErrors extends JsonReporter {
  #unhandledErrors: string[] = [];

  override async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): Promise<void> {
    this.#unhandledErrors = unhandledErrors.map((error) => error.stack ?? error.message);
    await super.onTestRunEnd(testModules);
  }

  override async writeReport(report: string): Promise<void> {
    await super.writeReport(JSON.stringify({ ...(JSON.parse(report) as object), unhandledErrors: this.#unhandledErrors }));
  }
}

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@sse/source'] } },
  test: {
    reporters: ['default', new JsonReportWithErrors({ outputFile: 'test-results/vitest.json' })],
    // Hang guards, not budgets: a test that finishes its work passes however slow the machine
    // (two shared cores, one of them busy). Waits inside tests have guards of their own that
    // fail sooner and say what they saw.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    restoreMocks: true,
  },
});
