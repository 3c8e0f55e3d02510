import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// The probe file exists only in memory, outside every tsconfig: lint it without types (the fence
// rules need none).
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

async function lintCore(code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/packages/core/src/fence-probe.ts` });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

describe('the lint fence around @sse/core', () => {
  it.each([
    "import { Buffer } from 'node:buffer';",
    "import { EventEmitter } from 'events';",
    "import type { Request } from 'express';",
    "import { Hono } from 'hono';",
    "import { serve } from '@hono/node-server';",
    "import Koa from 'koa';",
  ])('rejects %s', async (code) => {
    const messages = await lintCore(`${code}\nexport {};\n`);
    expect(messages.some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('rejects Node globals', async () => {
    const messages = await lintCore('export const x = Buffer.from("a");\nexport const y = process.env;\n');
    expect(messages.filter((m) => m.startsWith('no-restricted-globals'))).toHaveLength(2);
  });

  it('accepts web-standard code', async () => {
    expect(await lintCore('export const bytes = new TextEncoder().encode("a");\n')).toEqual([]);
  });
});
