// @sse/client depends on nothing at run time: its built ESM and CJS import and require no module
// (the @sse/core types it mirrors are erased), so a browser can load dist/index.js as it is.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = (file: string): string => readFileSync(fileURLToPath(new URL(`../../../packages/client/dist/${file}`, import.meta.url)), 'utf8');

describe('@sse/client dist', () => {
  it('imports and requires nothing', () => {
    expect(dist('index.js')).not.toMatch(/^\s*import\s|\bimport\(|\bfrom\s*["']/m);
    expect(dist('index.cjs')).not.toMatch(/\brequire\(/);
  });
});
