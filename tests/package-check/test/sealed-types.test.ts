// The published types carry the user and adapter APIs only: the internal protocol between streams,
// channels and registries (packages/core/src/internal) must never reach a .d.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDir = fileURLToPath(new URL('../../../packages', import.meta.url));
const INTERNAL = ['@internal', 'unique symbol', 'kWriteFrame', 'kObserve', 'kReplayed', 'kOnClose', 'kOffClose', 'kFinished', 'kForceAbort', 'kCloseWith', 'kAdmit', 'kTrack', 'kCreatedBy', 'StreamObserver', 'StreamInternals', 'RegistryInternals', 'admit(', 'track('];

/** The adapter API's own symbols (what a sink with `listen` calls on its stream): public, and declared as unique symbols. */
const PUBLIC_SYMBOLS = /declare const (?:sinkDrained|sinkGone): unique symbol;/g;

const published = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; private?: boolean; exports: Record<string, unknown> } }))
  .filter(({ pkg }) => pkg.private !== true);

describe.each(published)('$pkg.name types', ({ dir, pkg }) => {
  it('name no internal member of the core', () => {
    const declarations = readdirSync(join(dir, 'dist')).filter((file) => /\.d\.c?ts$/.test(file));
    expect(declarations.length).toBeGreaterThan(0);
    const leaks = declarations.flatMap((file) => {
      const text = readFileSync(join(dir, 'dist', file), 'utf8').replace(PUBLIC_SYMBOLS, '');
      return INTERNAL.filter((token) => text.includes(token)).map((token) => `${file}: ${token}`);
    });
    expect(leaks).toEqual([]);
  });

  it('give every entry point ESM and CJS types, after the source condition', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      const conditions = target as Record<string, { types?: string; default?: string } | string>;
      expect(Object.keys(conditions), subpath).toEqual(['@sse/source', 'import', 'require']);
      expect((conditions.import as { types?: string }).types, subpath).toMatch(/\.d\.ts$/);
      expect((conditions.require as { types?: string }).types, subpath).toMatch(/\.d\.cts$/);
    }
  });
});
