import { join } from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript source (the `@sse/source` export condition),
// so no build is needed between an edit and a test run.
const conditions = ['@sse/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@sse/source'] } },
  test: {
    // The JSON report feeds npm test's closing count; scripts/vitest-report.ts adds unhandled errors to it.
    reporters: ['default', [join(import.meta.dirname, 'scripts', 'vitest-report.ts'), { outputFile: 'test-results/vitest.json' }]],
    // Hang guards, not budgets: a test that finishes its work passes however slow the machine
    // (two shared cores, one of them busy). Waits inside tests have guards of their own that
    // fail sooner and say what they saw.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    restoreMocks: true,
  },
});
