#!/usr/bin/env node
// The two commands of the README, `npm start` and `npm test`, land here. On a machine with only
// Node and npm, this installs what is missing (pnpm, the workspace's packages, and for the tests
// Chromium, Redis, nginx, HAProxy and Caddy from Debian's packages), then runs the job.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { summarize } from './summary.mjs';

const PNPM_VERSION = '12.4.2';
const root = new URL('..', import.meta.url).pathname;
const job = process.argv[2] ?? 'test';
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

function output(command, args) {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'], env }).toString().trim();
  } catch {
    return undefined;
  }
}

function run(command, args, options = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, env, ...options });
  return result.status === 0;
}

function must(command, args, what) {
  if (!run(command, args)) {
    console.error(`\n${what} failed (see above).`);
    process.exit(1);
  }
}

function pnpm() {
  if (output('pnpm', ['--version'])?.startsWith('12.')) return ['pnpm'];
  console.log(`pnpm ${PNPM_VERSION} is not installed; installing it with npm.`);
  if (run('npm', ['install', '--global', `pnpm@${PNPM_VERSION}`]) && output('pnpm', ['--version'])) return ['pnpm'];
  console.log(`A global install was not possible; using npx pnpm@${PNPM_VERSION} instead.`);
  return ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

/**
 * Chromium (browser tests), redis-server (@sse/redis tests), and the fronts tests/proxies runs
 * the server behind (nginx, HAProxy, Caddy) come from Debian's packages.
 */
function ensureSystemPackages() {
  const missing = [];
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) missing.push('chromium');
  if (output('redis-server', ['--version']) === undefined) missing.push('redis-server');
  // nginx and haproxy live in /usr/sbin, which a normal user's PATH may lack.
  for (const [name, binary] of [['nginx', '/usr/sbin/nginx'], ['haproxy', '/usr/sbin/haproxy'], ['caddy', '/usr/bin/caddy']]) {
    if (!existsSync(binary) && output(name, ['-v']) === undefined && output(name, ['version']) === undefined) missing.push(name);
  }
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const canSudo = !isRoot && output('sudo', ['-n', 'true']) !== undefined;
  if (output('apt-get', ['--version']) === undefined || (!isRoot && !canSudo)) {
    console.error(
      `\nThe tests need ${missing.join(' and ')}. Install them (Debian/Ubuntu: apt-get install -y ${missing.join(' ')}),\n` +
        'or point CHROMIUM_PATH at a Chromium binary, then run this again.',
    );
    process.exit(1);
  }
  const [command, ...prefix] = isRoot ? ['apt-get'] : ['sudo', '-n', 'apt-get'];
  must(command, [...prefix, 'update', '-qq'], 'apt-get update');
  must(command, [...prefix, 'install', '-y', '-qq', '--no-install-recommends', ...missing], `installing ${missing.join(' ')}`);
}

/** The workspace package folders (apps/README.md and other files are skipped); benchmarks/ is one package. */
function packageDirs() {
  return ['packages', 'apps', 'tests']
    .map((group) => join(root, group))
    .filter((dir) => existsSync(dir))
    .flatMap((dir) => readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name)))
    .concat(join(root, 'benchmarks'));
}

/** The folders whose tests `npm test` runs: packages with a `test` script, and scripts/ itself. */
function testedDirs() {
  const hasTests = (dir) => existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.test !== undefined;
  return [...packageDirs().filter(hasTests), join(root, 'scripts')];
}

function clearReports() {
  for (const dir of testedDirs()) rmSync(join(dir, 'test-results', 'vitest.json'), { force: true });
}

const [pm, ...pmArgs] = pnpm();
must(pm, [...pmArgs, 'install', '--frozen-lockfile'], 'pnpm install');

if (job === 'start' || job === 'start:fastify' || job === 'start:hono' || job === 'start:koa') {
  const app = job === 'start' ? 'express' : job.slice('start:'.length);
  // No build: the app runs under tsx with the `@sse/source` condition, which every @sse/*
  // export has, so it loads the packages' TypeScript sources and never reads their dist/.
  const ok = run(pm, [...pmArgs, '--filter', `@sse-example/${app}`, 'start'], { env: { ...env, PORT: process.env.PORT ?? '3000' } });
  process.exit(ok ? 0 : 1);
}

if (job === 'start:bun' || job === 'start:deno') {
  // The Hono app on Bun or Deno, both installed by the workspace install above (the app's
  // devDependencies `bun` and `deno`); each runtime reads the TypeScript sources itself.
  const ok = run(pm, [...pmArgs, '--filter', '@sse-example/hono', job], {
    env: { ...env, PORT: process.env.PORT ?? '3000', DENO_NO_UPDATE_CHECK: '1' },
  });
  process.exit(ok ? 0 : 1);
}

if (job === 'demo:cluster') {
  // `pnpm demo:cluster --redis-cluster`: the script's own flags go through.
  const ok = run(pm, [...pmArgs, '--filter', '@sse-example/cluster', 'demo', ...process.argv.slice(3)]);
  process.exit(ok ? 0 : 1);
}

if (job === 'test') {
  ensureSystemPackages();
  clearReports();
  const steps = [
    ['lint', [...pmArgs, 'exec', 'eslint', '--max-warnings=0', '.']],
    ['build and typecheck', [...pmArgs, 'exec', 'turbo', 'run', 'build', 'typecheck', '--concurrency=2', '--output-logs=errors-only']],
    ['typecheck of scripts/ and the shared configs', [...pmArgs, 'exec', 'tsc', '-p', 'tsconfig.json']],
    ['tests', [...pmArgs, 'exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue']],
    ['tests of scripts/', [...pmArgs, 'exec', 'vitest', 'run', '--config', 'scripts/vitest.config.ts']],
  ];
  const failedSteps = steps.filter(([, args]) => !run(pm, args)).map(([name]) => name);
  const { passed, failed, failures } = summarize(testedDirs(), root);
  if (failures.length > 0) console.log(`\nFailed:\n${failures.map((failure) => `  ${failure}`).join('\n')}`);
  if (failedSteps.length > 0) console.log(`\nFailed steps: ${failedSteps.join(', ')}`);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failedSteps.length === 0 && failed === 0 ? 0 : 1);
}

console.error(`unknown job ${job}: use start, start:fastify, start:hono, start:koa, start:bun, start:deno, demo:cluster or test`);
process.exit(2);
