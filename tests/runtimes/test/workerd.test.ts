import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

const workerd = lazyRuntime('workerd');
afterAll(() => workerd.stop());

runConformance(bridgeTarget(workerd.get, 'hono', '@sse/hono on workerd (Miniflare 4)', {}));
runConformance(bridgeTarget(workerd.get, 'fetch', 'createFetchHandler on workerd (Miniflare 4)', {}));

it('the bridge is served by workerd itself', async () => {
  const { url } = await workerd.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toBe('Cloudflare-Workers');
});
