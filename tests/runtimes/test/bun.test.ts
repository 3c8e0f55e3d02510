import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

const bun = lazyRuntime('bun');
afterAll(() => bun.stop());

const skip = {
  // Seen once in a CI run with a core busy: two sse-gap events where the case expects one, as on
  // Deno (deno.test.ts), where the cause was traced to the bridge's producer (in the test process,
  // its sends reach the runtime in bursts). On Bun the cause is presumed the same, not traced.
  // test/backpressure.test.ts runs the same checks with the producer in Bun itself.
  'backpressure-drop-oldest': 'through the bridge drops sometimes come in two episodes (two sse-gap events), as on Deno; test/backpressure.test.ts checks one episode with the producer in Bun',
};
runConformance(bridgeTarget(bun.get, 'hono', '@sse/hono on Bun 1.4 (Bun.serve)', skip));
runConformance(bridgeTarget(bun.get, 'fetch', 'createFetchHandler on Bun 1.4 (Bun.serve)', skip));

it('the bridge is served by Bun itself', async () => {
  const { url } = await bun.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toMatch(/^Bun\/1\.4\./);
});

it('the core reads the client address from what Bun passes the fetch handler', async () => {
  const { url } = await bun.get();
  expect(await (await fetch(`${url}/client-address`)).text()).toBe('127.0.0.1');
});
