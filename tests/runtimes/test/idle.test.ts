// A stream with the default options that nothing is sent to, in each runtime's server with its
// own defaults: the keep-alive must come before the runtime's idle timeout cuts the connection.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_ALIVE_MS, type EventStream } from '@sse/core';
import { requestEventStream } from '@sse/conformance';
import { lazyRuntime, type RuntimeName } from './bridge.js';

const runtimes = (['bun', 'deno'] as RuntimeName[]).map((name) => ({ name, runtime: lazyRuntime(name) }));
afterAll(() => Promise.all(runtimes.map(({ runtime }) => runtime.stop())));

describe.concurrent.each(runtimes)('a quiet stream with the default keep-alive on $name', ({ runtime }) => {
  it.concurrent.each(['hono', 'fetch'])('%s: stays open past the idle timeout and gets keep-alive comments', async (api) => {
    const running = await runtime.get();
    const streams: EventStream[] = [];
    const id = running.control.add((stream) => void streams.push(stream), {});
    try {
      const client = await requestEventStream(`${running.url}/${api}/m/${id}`, { timeoutMs: 3 * DEFAULT_KEEP_ALIVE_MS });
      const started = Date.now();
      // The comment at open, then the first keep-alive, which comes after Bun's 10 s idleTimeout.
      await client.until(() => client.comments.length >= 2 || client.outcome !== undefined, 'a keep-alive comment or the end of the stream');
      console.log(`[measured] ${running.name} ${api}: ${client.comments.length} comments, ${client.outcome ?? 'open'} after ${Date.now() - started} ms`);
      expect(client.outcome).toBeUndefined();
      expect(client.comments).toHaveLength(2);
      client.close();
    } finally {
      running.control.remove(id);
    }
  }, 4 * DEFAULT_KEEP_ALIVE_MS);
});
