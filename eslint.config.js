// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The frameworks and runtimes @sse/core must never depend on: it runs on Node, Bun, Deno and Workers.
const FRAMEWORKS = ['express', 'koa', 'hono', '@hono/*', 'fastify', 'h3', 'undici', 'ioredis', '@sse/node', '@sse/express', '@sse/fastify', '@sse/koa', '@sse/hono'];

export default tseslint.config(
  // apps/shared/public/sse-client.js is generated from packages/client/src (linted there).
  { ignores: ['**/dist/**', '**/node_modules/**', '**/test-results/**', '**/.turbo/**', '**/coverage/**', 'apps/shared/public/sse-client.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      // Type-aware rules: every TypeScript file belongs to the tsconfig.json of its folder.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection. Where one is left running on purpose, it is
      // written `void promise` with a comment saying why.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  // Plain JavaScript (this file, scripts/*.mjs, the browser demo) is linted without types.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', fetch: 'readonly', document: 'readonly', window: 'readonly', EventSource: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The fence around the core: web-standard APIs only.
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: '@sse/core runs on every runtime: use web-standard APIs, not node:* modules.' },
            { group: [...builtinModules, ...builtinModules.map((name) => `${name}/*`)], message: '@sse/core runs on every runtime: no Node built-in modules.' },
            { group: FRAMEWORKS, message: '@sse/core is framework-agnostic: framework code belongs in an adapter.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: '@sse/core runs on every runtime: use Uint8Array and TextEncoder.' },
        { name: 'process', message: '@sse/core runs on every runtime: no process global.' },
        { name: 'require', message: '@sse/core is ESM source.' },
        { name: 'setImmediate', message: 'Not available on every runtime: use queueMicrotask or setTimeout.' },
      ],
    },
  },
  {
    // The same fence around the client, which runs in browsers, Node, Bun, Deno and Workers, and
    // depends on nothing: @sse/core's types it may name (erased), never its code.
    files: ['packages/client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: '@sse/client runs on every runtime: use fetch and Web Streams, not node:* modules.' },
            { group: [...builtinModules, ...builtinModules.map((name) => `${name}/*`)], message: '@sse/client runs on every runtime: no Node built-in modules.' },
            { group: ['@sse/*', ...FRAMEWORKS], allowTypeImports: true, message: '@sse/client has no runtime dependency: import types only (import type), or copy the constant.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: '@sse/client runs on every runtime: use Uint8Array and TextDecoder.' },
        { name: 'process', message: '@sse/client runs on every runtime: no process global.' },
        { name: 'require', message: '@sse/client is ESM source.' },
        { name: 'setImmediate', message: 'Not available on every runtime: use queueMicrotask or setTimeout.' },
      ],
    },
  },
);
