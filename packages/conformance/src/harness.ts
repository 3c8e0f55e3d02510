import { createChannel, createMemoryStore, type Channel } from '@sse/core';
import { WAIT_MS } from './clients.js';
import type { ConformanceCase, ConformanceHandler, ConformanceOptions, ConformanceTarget, MountedServer } from './types.js';

/** What a case gets: mounts and channels that are torn down after it, whatever happens. */
export interface CaseContext {
  readonly target: ConformanceTarget;
  /** Starts the adapter's HTTP/1.1 server with `handler`. */
  mount(handler: ConformanceHandler, options?: ConformanceOptions): Promise<MountedServer>;
  /** Starts the adapter's HTTP/2 server with `handler`. */
  mountHttp2(handler: ConformanceHandler, options?: ConformanceOptions): Promise<MountedServer>;
  /** A channel over the target's store (in-memory with a history of 100 by default). */
  createChannel(): Promise<Channel>;
  /** Registers a client (or anything closable) to close after the case. */
  track<T extends { close(): unknown }>(closable: T): T;
}

export interface CaseTest {
  title: string;
  run(context: CaseContext): Promise<void>;
}

export interface CaseGroup {
  name: ConformanceCase;
  tests: CaseTest[];
}

/** Runs one test of a case with its own context, then closes what it opened (clients first). */
export async function runCaseTest(target: ConformanceTarget, test: CaseTest): Promise<void> {
  const cleanups: Array<() => unknown> = [];
  const mountWith = async (
    mount: ConformanceTarget['mount'] | undefined,
    handler: ConformanceHandler,
    options: ConformanceOptions | undefined,
  ): Promise<MountedServer> => {
    if (mount === undefined) throw new Error(`${target.name} has no http2 mount`);
    const server = await mount(handler, options ?? {});
    cleanups.push(() => server.close());
    return server;
  };
  const context: CaseContext = {
    target,
    mount: (handler, options) => mountWith(target.mount, handler, options),
    mountHttp2: (handler, options) => mountWith(target.http2, handler, options),
    createChannel: async () => {
      const store = target.createStore === undefined ? createMemoryStore({ limit: 100 }) : await target.createStore();
      const channel = createChannel({ store });
      cleanups.push(() => channel.close());
      return channel;
    },
    track: (closable) => {
      cleanups.push(() => closable.close());
      return closable;
    },
  };
  try {
    await test.run(context);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Teardown of something the case already broke on purpose.
      }
    }
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Waits for a promise, failing with `what` if it has not settled after {@link WAIT_MS} (a hang guard). */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `condition` until it holds; fails with `what` (and `describe()`) after {@link WAIT_MS}. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${WAIT_MS} ms ${describe()}`.trim());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending I/O callbacks run (a macrotask). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Adds query parameters to a mount's URL (which may already have some). */
export function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return target.href;
}

/** Runs every test of one group outside of vitest's registration (the suite's own self-test uses it). */
export async function runCaseGroup(target: ConformanceTarget, group: CaseGroup): Promise<void> {
  for (const test of group.tests) await runCaseTest(target, test);
}
