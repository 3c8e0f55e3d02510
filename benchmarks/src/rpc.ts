import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Request/response over the IPC channel between the orchestrator and its child processes
 * (one server per contender, one client process, one encoder process per measurement).
 */

interface RpcRequest {
  rpc: number;
  command: string;
  args: unknown;
}

interface RpcResponse {
  rpc: number;
  result?: unknown;
  error?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RpcHandlers = Record<string, (args: any) => unknown>;

/** Child side: answers the parent's commands with these handlers. */
export function serveRpc(handlers: RpcHandlers): void {
  if (process.send === undefined) throw new Error('this module runs as a child of the bench orchestrator (no IPC channel)');
  process.on('message', (message: RpcRequest) => {
    const handler = handlers[message.command];
    const reply = (response: Omit<RpcResponse, 'rpc'>): void => {
      process.send?.({ rpc: message.rpc, ...response });
    };
    if (handler === undefined) {
      reply({ error: `unknown command ${message.command}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (result) => reply({ result }),
        (error: unknown) => reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  // The parent going away (a crash, ^C) must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}

/**
 * Flags every child gets: the harness's TypeScript through tsx, and `gc()` for memory readings.
 * @sse itself comes from its build (`dist`), as users get it: tsx compiles with esbuild's
 * `keepNames`, which gives every named closure an own `name` property, about 250 bytes of heap
 * per closure per connection, enough to distort the memory figures. `source: true` loads the
 * TypeScript sources instead (for the smoke test and quick iterations on the core).
 */
function childExecArgv(source: boolean): string[] {
  return ['--expose-gc', '--import', 'tsx', ...(source ? ['--conditions=@sse/source'] : [])];
}

/** Child scripts have the extension of this module (`.ts` under tsx). */
const EXTENSION = import.meta.url.slice(import.meta.url.lastIndexOf('.'));

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface FdLimit {
  /** Open files each child may hold. */
  limit: number;
  /** Children start through `prlimit --nofile=N:N` (the limit could be raised). */
  raised: boolean;
  /** Why the limit could not be raised to what was asked, if it could not. */
  problem?: string;
}

function hardFdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()) || 1024;
  } catch {
    return 1024;
  }
}

/**
 * Open files the children can have: `wanted` when `prlimit --nofile` can set it (root with
 * CAP_SYS_RESOURCE, or under the hard limit), else the hard limit this process has (Node raises
 * its soft limit to the hard one at startup), with the reason.
 */
export function fdLimit(wanted: number): FdLimit {
  try {
    execFileSync('prlimit', [`--nofile=${wanted}:${wanted}`, 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { limit: wanted, raised: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    const reason = stderr === undefined || stderr === '' ? (error as Error).message.split('\n')[0]! : stderr.split('\n')[0]!;
    return { limit: hardFdLimit(), raised: false, problem: `prlimit --nofile=${wanted}:${wanted}: ${reason}` };
  }
}

/** Parent side: a child process that answers commands. */
export class RpcChild {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #ready: Promise<void>;
  readonly #exited: Promise<void>;
  #next = 0;
  #exit: string | undefined;

  /** `script` is a module of this folder without extension: `server`, `client`, `encode`. */
  constructor(
    readonly name: string,
    script: string,
    args: readonly string[] = [],
    { source = false, env, nofile, wrapper = [] }: { source?: boolean; env?: Record<string, string>; nofile?: number; wrapper?: readonly string[] } = {},
  ) {
    // With `nofile` the child starts through `prlimit`, with a `wrapper` (valgrind) through that:
    // each execs the next with the IPC channel intact.
    const prefix = [...(nofile === undefined ? [] : ['prlimit', `--nofile=${nofile}:${nofile}`]), ...wrapper];
    this.#child = fork(fileURLToPath(new URL(`./${script}${EXTENSION}`, import.meta.url)), [...args], {
      cwd: BENCH_DIR,
      ...(prefix.length === 0 ? { execArgv: childExecArgv(source) } : { execPath: prefix[0]!, execArgv: [...prefix.slice(1), process.execPath, ...childExecArgv(source)] }),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    // IPC messages that arrive before the child listens are lost: wait for its hello first.
    this.#ready = new Promise((resolve) => {
      const onHello = (message: unknown): void => {
        if ((message as { ready?: boolean }).ready !== true) return;
        this.#child.off('message', onHello);
        resolve();
      };
      this.#child.on('message', onHello);
    });
    this.#child.on('message', (message: RpcResponse) => {
      const pending = this.#pending.get(message.rpc);
      if (pending === undefined) return;
      this.#pending.delete(message.rpc);
      if (message.error !== undefined) pending.reject(new Error(`${this.name}: ${message.error}`));
      else pending.resolve(message.result);
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.on('exit', (code, signal) => {
      this.#exit = `${this.name} exited (${signal ?? code})`;
      for (const pending of this.#pending.values()) pending.reject(new Error(this.#exit));
      this.#pending.clear();
    });
  }

  /** Sends a command; rejects after `timeoutMs` so that no run can hang the bench. */
  async call<T>(command: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    await Promise.race([this.#ready, this.#exited]);
    if (this.#exit !== undefined) throw new Error(this.#exit);
    const rpc = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rpc);
        reject(new Error(`${this.name}: ${command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(rpc, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#child.send({ rpc, command, args } satisfies RpcRequest);
    });
  }

  /** Ends the child (it holds no state worth a graceful exit) and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.#exit === undefined) this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
