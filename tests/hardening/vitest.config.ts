import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// --expose-gc: the churn test compares the heap after a full collection with its baseline.
// The tests are sized by counts (streams, cycles); the timeout is only a hang guard.
export default mergeConfig(shared, defineConfig({ test: { execArgv: ['--expose-gc'], testTimeout: 600_000, fileParallelism: false } }));
