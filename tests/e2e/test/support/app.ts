import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Framework = 'express' | 'fastify' | 'hono' | 'koa';

/** The apps the same tests run against. */
export const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'hono', 'koa'];

/** Where an app runs: Node (every app), or Bun or Deno (the Hono app, `server.bun.ts` and `server.deno.ts`). */
export type Runtime = 'node' | 'bun' | 'deno';

/** The Hono app on the other runtimes: the page's main browser test also runs against these. */
export const HONO_RUNTIMES: readonly Runtime[] = ['bun', 'deno'];

/** The `/private` token the tests start the apps with. */
export const TEST_TOKEN = 'e2e-token';

/** The hang guard of every event-stream wait in these tests: the apps run as processes of their own on a busy machine. */
export const STREAM_TIMEOUT_MS = 20_000;

/** A short tick keeps the tests fast: the clock must visibly advance within seconds. */
export const TEST_TICK_MS = 200;

const APPS_DIR = fileURLToPath(new URL('../../../../apps/', import.meta.url));

/** `apps/<framework>/test-results/` (`…/test-results/<runtime>/` off Node), where screenshots go. */
export function testResultsDir(framework: Framework, runtime: Runtime = 'node'): string {
  const dir = `${APPS_DIR}${framework}/test-results/${runtime === 'node' ? '' : `${runtime}/`}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningApp {
  framework: Framework;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything the app printed so far (for failure messages). */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<AppExit>;
  /** Sends the signal (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<AppExit>;
}

export interface StartOptions {
  /** Defaults to `0`, a free port. */
  port?: number;
  /** Runs the chat (and the rooms, unless `redisClusterNodes` is given) on this Redis; defaults to none (in memory), whatever `REDIS_URL` the tests run with. */
  redisUrl?: string;
  /** `TICK_MS`; defaults to `TEST_TICK_MS`. */
  tickMs?: number;
  /** Runs the rooms on this Redis Cluster (`REDIS_CLUSTER_NODES`); defaults to none. */
  redisClusterNodes?: readonly string[];
  /** More environment variables (e.g. a bad value, to see the app refuse to start). */
  env?: Record<string, string>;
  /** Defaults to `'node'`; `'bun'` and `'deno'` exist for the Hono app only. */
  runtime?: Runtime;
}

/**
 * The command that starts the app, as its package script does: tsx on Node; on Bun and Deno
 * the Hono app's own `bun` and `deno` (its devDependencies), run directly so that a signal
 * reaches the runtime and not a shim, with the arguments of its `start:bun` / `start:deno`.
 */
function command(framework: Framework, runtime: Runtime): [string, string[]] {
  if (runtime === 'node') return [process.execPath, ['--import', 'tsx', '--conditions=@sse/source', 'server.ts']];
  if (framework !== 'hono') throw new Error(`only the Hono app runs on ${runtime}`);
  const modules = `${APPS_DIR}hono/node_modules/`;
  if (runtime === 'bun') return [`${modules}bun/bin/bun.exe`, ['--conditions=@sse/source', 'server.bun.ts']];
  const permissions = ['--allow-net', '--allow-env', '--allow-read', '--allow-sys'];
  return [`${modules}deno/deno`, ['run', ...permissions, '--sloppy-imports', '--conditions=@sse/source', 'server.deno.ts']];
}

/**
 * Starts `apps/<framework>/server.ts` as its own process, the way `npm start` does (TypeScript
 * source through tsx; the Hono app's `server.bun.ts` or `server.deno.ts` with `runtime`), and
 * resolves once it printed its startup line.
 */
export function startApp(framework: Framework, options: StartOptions = {}): Promise<RunningApp> {
  const [executable, args] = command(framework, options.runtime ?? 'node');
  const child = spawn(executable, args, {
    cwd: `${APPS_DIR}${framework}`,
    env: {
      ...process.env,
      NO_COLOR: '1',
      DENO_NO_UPDATE_CHECK: '1',
      PORT: String(options.port ?? 0),
      TICK_MS: String(options.tickMs ?? TEST_TICK_MS),
      PRIVATE_TOKEN: TEST_TOKEN,
      REDIS_URL: options.redisUrl ?? '',
      REDIS_CLUSTER_NODES: options.redisClusterNodes?.join(',') ?? '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<AppExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${framework} app printed no startup line within 60 s (a hang guard; the runtime compiles the sources first):\n${output}`));
    }, 60_000);
    // `exited` never rejects; this only turns an early exit into a failed start.
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the ${framework} app exited (${JSON.stringify(exit)}) before it listened:\n${output}`));
    });
    const onData = (): void => {
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      const port = Number(match[1]);
      resolve({
        framework,
        port,
        url: `http://127.0.0.1:${port}`,
        output: () => output,
        exited,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
  });
}
