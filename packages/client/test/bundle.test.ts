// @sse/client has no runtime dependency (the @sse/core types it mirrors are erased), imports no
// node:* module, and the copy the sample apps' page loads is the bundle of the current source.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundle, PAGE_COPY, pageCopy } from '../scripts/bundle.ts';

describe('the bundle', () => {
  it('imports nothing at run time and is made of src/ only', async () => {
    const { imports, inputs } = await bundle();
    expect(imports).toEqual([]);
    expect(inputs.every((input) => input.startsWith('src/'))).toBe(true);
  });

  it('is what apps/shared/public/sse-client.js holds (run `pnpm -F @sse/client bundle` after a change)', async () => {
    const { code } = await bundle();
    expect(readFileSync(PAGE_COPY, 'utf8')).toBe(pageCopy(code));
  });
});
