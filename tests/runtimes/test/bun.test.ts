import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

const bun = lazyRuntime('bun');
afterAll(() => bun.stop());

runConformance(bridgeTarget(bun.get, 'hono', '@sse/hono on Bun 1.4 (Bun.serve)', {}));
runConformance(bridgeTarget(bun.get, 'fetch', 'createFetchHandler on Bun 1.4 (Bun.serve)', {}));

it('the bridge is served by Bun itself', async () => {
  const { url } = await bun.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toMatch(/^Bun\/1\.4\./);
});

it('the core reads the client address from what Bun passes the fetch handler', async () => {
  const { url } = await bun.get();
  expect(await (await fetch(`${url}/client-address`)).text()).toBe('127.0.0.1');
});
