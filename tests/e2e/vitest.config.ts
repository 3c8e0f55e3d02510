import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Both test files start the three apps; one at a time keeps them off each other's CPU.
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false } }));
