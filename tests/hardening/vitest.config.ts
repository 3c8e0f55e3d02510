import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// --expose-gc: the churn test compares the heap after a full collection with its baseline.
export default mergeConfig(shared, defineConfig({ test: { execArgv: ['--expose-gc'], testTimeout: 120_000, fileParallelism: false } }));
