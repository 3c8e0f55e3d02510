import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: ['src/index.ts', 'src/adapter.ts', 'src/user-api.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'es2022',
  // One copy of each module per format: the entries share classes (SseError, the stream) instead of each bundling its own.
  splitting: true,
  // Names this copy in ERR_SSE_DUPLICATE_CORE ("@sse/core 1.2.0 (cjs, protocol 3)").
  esbuildOptions(options, context) {
    options.define = { ...options.define, __SSE_CORE_VERSION__: JSON.stringify(version), __SSE_CORE_FORMAT__: JSON.stringify(context.format) };
  },
});
