import { createStreamRegistry, type CloseInfo } from '@sse/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestEventStream, type EventStreamClient } from '@sse/conformance';
import { record } from './figures.js';
import { adapters } from './servers.js';

// A handler that starts `stream.pipe(generator)` without returning the promise: the generator's
// error used to become an unhandled rejection, which ends a Node 20 process.

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Waits for `promise`, failing with `what` after a generous hang guard. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after 10 s`)), 10_000);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Lets the process's rejection tracking run (it reports after the microtask queue drains). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

const CLIENTS = 20;

/**
 * Opens a stream, or `undefined` when the connection was cut before any head: a Fetch runtime
 * (Hono) writes the head only after the handler returned, so a stream that fails that early may
 * be cut first. Either way the client reconnects; what must never come is a crash.
 */
function open(url: string): Promise<EventStreamClient | undefined> {
  return requestEventStream(url).catch((error: unknown) => {
    expect((error as { code?: unknown }).code, String(error)).toBe('ECONNRESET');
    return undefined;
  });
}

describe.each(Object.entries(adapters))('unreturned pipes on %s', (name, mount) => {
  it(`${CLIENTS} handlers whose piped generator throws, promise not returned: onError each time, streams closed with reason error, 0 unhandled rejections`, async () => {
    const registry = createStreamRegistry();
    const errors: unknown[] = [];
    const closed: Array<Promise<CloseInfo>> = [];
    let runs = 0;
    const server = await mount(
      (stream) => {
        runs++;
        closed.push(stream.closed);
        void stream.pipe(
          (async function* () {
            yield 'first';
            await new Promise((resolve) => setImmediate(resolve));
            throw new Error(`generator ${runs} failed`);
          })(),
        );
      },
      { registry, keepAlive: false, onError: (error) => errors.push(error) },
    );
    try {
      let cut = 0;
      for (let i = 0; i < CLIENTS; i++) {
        const client = await open(server.url);
        if (client === undefined) cut++;
        else await within(client.waitForEnd(), 'the stream to end');
      }
      const infos = await within(Promise.all(closed), 'every stream to close');
      await settle();
      expect(infos.map((info) => info.reason)).toEqual(Array.from({ length: CLIENTS }, () => 'error'));
      expect(errors).toHaveLength(CLIENTS);
      expect(unhandled).toEqual([]);
      expect([runs, registry.size]).toEqual([CLIENTS, 0]);
      record(`unreturned pipes ${name}`, { handlers: runs, reportedToOnError: errors.length, closedWithError: infos.length, unhandledRejections: unhandled.length, slotsFree: registry.size === 0 ? 'all' : registry.size, cutBeforeHead: cut });
    } finally {
      await server.close();
    }
  });

  it('a returned (awaited) pipe that fails is reported once, not twice', async () => {
    const errors: unknown[] = [];
    const server = await mount(
      async (stream) => {
        await stream.pipe(
          (async function* () {
            yield 'first';
            throw new Error('awaited generator failed');
          })(),
        );
      },
      { keepAlive: false, onError: (error) => errors.push(error) },
    );
    try {
      await within(Promise.resolve((await open(server.url))?.waitForEnd()), 'the stream to end');
      await settle();
      expect(errors.map((error) => (error as Error).message)).toEqual(['awaited generator failed']);
      expect(unhandled).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
