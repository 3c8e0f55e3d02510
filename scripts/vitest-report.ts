import type { SerializedError } from 'vitest';
import { JsonReporter, type TestModule } from 'vitest/node';

/**
 * Vitest's JSON report, plus the errors raised outside any test (`unhandledErrors`, which the
 * stock report leaves out), so that the closing count of `npm test` (scripts/summary.mjs) sees
 * them. vitest.shared.ts names it by path: the packages' tsconfigs then do not load vitest/node's types.
 */
export default class JsonReportWithErrors extends JsonReporter {
  #unhandledErrors: string[] = [];

  override async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): Promise<void> {
    this.#unhandledErrors = unhandledErrors.map((error) => error.stack ?? error.message);
    await super.onTestRunEnd(testModules);
  }

  override async writeReport(report: string): Promise<void> {
    await super.writeReport(JSON.stringify({ ...(JSON.parse(report) as object), unhandledErrors: this.#unhandledErrors }));
  }
}
