import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SseError } from '@sse/core';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Port on 127.0.0.1. Defaults to a free port. */
  port?: number;
  /**
   * Keep the data in an append-only file fsynced on every write, so that it survives
   * {@link RedisServer.kill} and {@link RedisServer.restart}. Defaults to `false` (memory only).
   */
  appendOnly?: boolean;
  /** The `redis-server` binary. Defaults to `$REDIS_SERVER`, else `redis-server` on the PATH. */
  command?: string;
  /** How long to wait for the server to accept connections (ms). Defaults to `10_000`. */
  startTimeoutMs?: number;
}

/** A `redis-server` child process started by {@link startRedisServer}. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Its data directory (a fresh temporary directory, removed by `stop()`). */
  readonly dir: string;
  /** The process id of the running `redis-server`; `undefined` after `kill()` or `stop()`. */
  readonly pid: number | undefined;
  /**
   * Freezes it (SIGSTOP): its connections stay open and it answers nothing, as a Redis stuck in a
   * long command, a swapping host or a VM pause would. Resolves once the signal was sent.
   */
  pause(): Promise<void>;
  /** Lets a paused server run again (SIGCONT); what it was sent meanwhile is then executed. */
  resume(): Promise<void>;
  /** Stops it abruptly (SIGKILL), as a crash would. Resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts it again after `kill()`, on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and removes its data directory. Idempotent. */
  stop(): Promise<void>;
}

const NOT_FOUND_HINT =
  'install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), set REDIS_SERVER to its path, or point REDIS_URL at a running Redis';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a throwaway `redis-server` for tests and local demos: bound to 127.0.0.1, no RDB
 * snapshots, data in a temporary directory. Rejects with an `SseError` (`ERR_SSE_REDIS_SERVER_NOT_FOUND`)
 * when the binary is missing, saying how to install it. The process is killed when this process exits.
 */
export function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  return startRedisProcess(options, () => Promise.resolve([]));
}

/**
 * {@link startRedisServer} with more `redis-server` arguments, asked for again on each attempt (a
 * retry after a taken port may need other ports in them too) and kept for `restart()`. Internal:
 * `@sse/redis/testing` uses it to start cluster nodes.
 */
export async function startRedisProcess(options: RedisServerOptions, extraArgs: () => Promise<string[]>): Promise<RedisServer> {
  const command = options.command ?? process.env.REDIS_SERVER ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'sse-redis-'));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let args: string[] = [];
  // A free port found by the OS can be taken before redis-server binds it: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      args = await extraArgs();
      child = await launch(command, port, dir, options.appendOnly === true, args, startTimeoutMs);
      break;
    } catch (error) {
      const portTaken = error instanceof SseError && error.code === 'ERR_SSE_REDIS_SERVER_PORT';
      if (!portTaken || options.port !== undefined || attempt >= 5) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }
  let stopped = false;
  let paused = false;
  const signal = (name: 'SIGSTOP' | 'SIGCONT'): Promise<void> => {
    if (child === undefined) {
      return Promise.reject(new SseError('ERR_SSE_REDIS_SERVER_STOPPED', 'redis-server is not running; restart() or start a new one first'));
    }
    const { pid } = child;
    child.kill(name);
    paused = name === 'SIGSTOP';
    return paused && pid !== undefined ? stoppedForSure(pid) : Promise.resolve();
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async kill() {
      if (child !== undefined) await terminate(child, 'SIGKILL', paused);
      child = undefined;
      paused = false;
    },
    async restart() {
      if (stopped) throw new SseError('ERR_SSE_REDIS_SERVER_STOPPED', 'this redis-server was stopped; start a new one with startRedisServer()');
      if (child !== undefined) throw new SseError('ERR_SSE_REDIS_SERVER_RUNNING', `redis-server is still running on port ${port}; kill() it first`);
      child = await launch(command, port, dir, options.appendOnly === true, args, startTimeoutMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child !== undefined) await terminate(child, 'SIGTERM', paused);
      child = undefined;
      paused = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function launch(
  command: string,
  port: number,
  dir: string,
  appendOnly: boolean,
  extraArgs: readonly string[],
  timeoutMs: number,
): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--logfile', ''];
  args.push('--appendonly', appendOnly ? 'yes' : 'no');
  if (appendOnly) args.push('--appendfsync', 'always');
  args.push(...extraArgs);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Rejects once the process is gone: a caller that sees the error finds nothing left running.
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        reject(error);
        return;
      }
      child.once('exit', () => reject(error));
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => fail(new SseError('ERR_SSE_REDIS_SERVER_START', `redis-server did not accept connections within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!settled && /Ready to accept connections/.test(output)) {
        settled = true;
        clearTimeout(timer);
        running.add(child);
        installExitHook();
        resolve(child);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('error', (error: NodeJS.ErrnoException) => {
      fail(
        error.code === 'ENOENT'
          ? new SseError('ERR_SSE_REDIS_SERVER_NOT_FOUND', `${command} was not found; ${NOT_FOUND_HINT}`, { cause: error })
          : error,
      );
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (/Address already in use/i.test(output)) {
        fail(new SseError('ERR_SSE_REDIS_SERVER_PORT', `port ${port} is already in use`));
      } else {
        fail(new SseError('ERR_SSE_REDIS_SERVER_START', `redis-server exited (${signal ?? `code ${code}`}) before accepting connections:\n${output}`));
      }
    });
  });
}

function terminate(child: ChildProcess, signal: NodeJS.Signals, paused: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      running.delete(child);
      resolve();
    });
    child.kill(signal);
    // A stopped process only acts on SIGTERM once it runs again.
    if (paused) child.kill('SIGCONT');
  });
}

/**
 * A signal is delivered asynchronously: on Linux, waits (at most a second) until the process is
 * seen stopped, so that nothing sent after `pause()` resolves can still be executed.
 */
async function stoppedForSure(pid: number): Promise<void> {
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return; // not Linux (or already gone): nothing more to wait for
    }
    // `pid (comm) state …`; the name may hold spaces and parentheses, the state follows the last `)`.
    if (/^[Tt]/.test(stat.slice(stat.lastIndexOf(')') + 2))) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A test run or demo that dies must not leave redis-server processes behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
