import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

const deno = lazyRuntime('deno');
afterAll(() => deno.stop());

runConformance(bridgeTarget(deno.get, 'hono', '@sse/hono on Deno 2.9 (Deno.serve)', {}));
runConformance(bridgeTarget(deno.get, 'fetch', 'createFetchHandler on Deno 2.9 (Deno.serve)', {}));

it('the bridge is served by Deno itself', async () => {
  const { url } = await deno.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toMatch(/^Deno\/2\.9\./);
});
