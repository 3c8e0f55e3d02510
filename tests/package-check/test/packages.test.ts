import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packagesDir = fileURLToPath(new URL('../../../packages', import.meta.url));

const published = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown> }))
  .filter(({ pkg }) => pkg.private !== true);

describe.each(published)('$pkg.name as published', ({ dir, pkg }) => {
  it('passes publint --strict', async () => {
    const { messages } = await publint({ pkgDir: dir, strict: true, pack: 'pnpm' });
    const problems = messages.filter((m) => m.type !== 'suggestion').map((m) => formatMessage(m, pkg));
    expect(problems).toEqual([]);
  });

  it('resolves its types in every module mode (attw --pack)', async () => {
    const attw = fileURLToPath(new URL('../../../node_modules/.bin/attw', import.meta.url));
    const { stdout } = await run(attw, ['--pack', dir, '--format', 'json'], { cwd: dir }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(stdout) as { analysis?: { problems?: unknown[] }; problems?: unknown[] };
    expect(report.analysis?.problems ?? report.problems ?? []).toEqual([]);
  });

  it('ships ESM, CJS and types through an exports map', () => {
    const exportsMap = pkg.exports as Record<string, { import?: { types?: string }; require?: { types?: string } }>;
    expect(exportsMap['./package.json']).toBe('./package.json');
    expect(exportsMap['.']?.import?.types).toMatch(/\.d\.ts$/);
    expect(exportsMap['.']?.require?.types).toMatch(/\.d\.cts$/);
  });
});
