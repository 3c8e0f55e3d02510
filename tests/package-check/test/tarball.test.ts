// What a published package carries: its built dist/ (ESM, CJS and their types), its README and
// package.json, and the few files it names on purpose. No src/ and no source maps: the bundles
// are not minified, so a stack trace already points at readable code, and maps without the
// sources they name would point at nothing. The `@sse/source` condition (the workspace's way to
// run on sources without a build) is removed by pnpm's `publishConfig.exports` as it packs, since
// its target does not ship; `changeset publish` publishes through pnpm, which applies it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packagesDir = fileURLToPath(new URL('../../../packages', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sse-tarball-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Exports = Record<string, string | Record<string, unknown>>;
interface Manifest {
  name: string;
  private?: boolean;
  files: string[];
  exports: Exports;
  publishConfig?: { exports?: Exports };
  main?: string;
  module?: string;
  types?: string;
  typesVersions?: Record<string, Record<string, string[]>>;
}

const published = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ pkg }) => pkg.private !== true);

/** The exports map without the workspace's source condition: what a consumer must see. */
function withoutSource(exportsMap: Exports): Exports {
  return Object.fromEntries(
    Object.entries(exportsMap).map(([subpath, target]) => [
      subpath,
      typeof target === 'string' ? target : Object.fromEntries(Object.entries(target).filter(([condition]) => condition !== '@sse/source')),
    ]),
  );
}

/** Every file path an exports map (or a `typesVersions` map) names. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(targets);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

describe.each(published)('$pkg.name tarball', ({ dir, pkg }) => {
  const packed = (async () => {
    const destination = mkdtempSync(join(scratch, 'pack-'));
    await run('pnpm', ['pack', '--pack-destination', destination], { cwd: dir });
    const tarball = join(destination, readdirSync(destination).find((file) => file.endsWith('.tgz'))!);
    const { stdout: list } = await run('tar', ['-tzf', tarball]);
    const { stdout: manifest } = await run('tar', ['-xzOf', tarball, 'package/package.json']);
    return {
      files: list.split('\n').filter((line) => line !== '').map((line) => line.replace(/^package\//, '')).sort(),
      manifest: JSON.parse(manifest) as Manifest,
    };
  })();

  it('holds dist/ (ESM, CJS, types), README.md, package.json and the files it names, nothing else', async () => {
    const { files } = await packed;
    const extras = pkg.files.filter((entry) => entry !== 'dist');
    const unexpected = files.filter(
      (file) =>
        !/^dist\/[^/]+\.(js|cjs|d\.ts|d\.cts)$/.test(file) &&
        !['README.md', 'package.json'].includes(file) &&
        !extras.some((extra) => file === extra || file.startsWith(`${extra}/`)),
    );
    expect(unexpected).toEqual([]);
    expect(files.some((file) => file.endsWith('.map') || file.startsWith('src/'))).toBe(false);
  });

  it('publishes the exports map without the @sse/source condition, and every file it names is in the tarball', async () => {
    const { files, manifest } = await packed;
    expect(manifest.exports).toEqual(withoutSource(pkg.exports));
    expect(JSON.stringify(manifest)).not.toContain('@sse/source');
    const named = [...targets(manifest.exports), manifest.main, manifest.module, manifest.types, ...targets(manifest.typesVersions)]
      .filter((path): path is string => path !== undefined)
      .map((path) => path.replace(/^\.\//, ''));
    expect(named.filter((path) => !files.includes(path))).toEqual([]);
  });
});
