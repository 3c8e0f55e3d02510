import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

// With the flag the READMEs require on Workers: without it, a client that leaves is never
// reported to a streaming response (test/workers-disconnect.test.ts shows both).
const workerd = lazyRuntime('workerd', { compatibilityFlags: ['enable_request_signal'] });
afterAll(() => workerd.stop());

// Through the bridge the case's producer runs here and cannot be held back: it is done with
// 48 MiB while workerd, reading the bridge's sends more slowly than Bun or Deno, has taken only
// part of them, and the case looks too early. test/backpressure.test.ts runs the same checks
// with the producer in workerd, where both policies pass.
const BACKPRESSURE = "through the bridge the producer outruns workerd's reading of its sends; test/backpressure.test.ts runs these checks with the producer in workerd";
const skip = { 'backpressure-disconnect': BACKPRESSURE, 'backpressure-drop-oldest': BACKPRESSURE };
runConformance(bridgeTarget(workerd.get, 'hono', '@sse/hono on workerd (Miniflare 4, enable_request_signal)', skip));
runConformance(bridgeTarget(workerd.get, 'fetch', 'createFetchHandler on workerd (Miniflare 4, enable_request_signal)', skip));

it('the bridge is served by workerd itself', async () => {
  const { url } = await workerd.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toBe('Cloudflare-Workers');
});
