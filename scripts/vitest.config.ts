import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

// The tests of the repo's own scripts (`npm test` runs them after the packages' tests).
export default mergeConfig(shared, defineConfig({ root: import.meta.dirname, test: { include: ['test/*.test.ts'] } }));
