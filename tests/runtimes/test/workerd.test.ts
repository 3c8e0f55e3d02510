import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

// With the flag the READMEs require on Workers: without it, a client that leaves is never
// reported to a streaming response (test/workers-disconnect.test.ts shows both).
const workerd = lazyRuntime('workerd', { compatibilityFlags: ['enable_request_signal'] });
afterAll(() => workerd.stop());

// Measured: 48 MiB (and 24 MiB) went to a raw socket that never read while the stream's queue
// stayed empty: workerd keeps pulling the body into buffers of its own, so `write()` never
// reports backpressure and no slow-client policy gets to act.
const BACKPRESSURE = 'workerd pulls a response body without backpressure from a client that stopped reading: the stream never sees it fill';
const skip = { 'backpressure-disconnect': BACKPRESSURE, 'backpressure-drop-oldest': BACKPRESSURE };
runConformance(bridgeTarget(workerd.get, 'hono', '@sse/hono on workerd (Miniflare 4, enable_request_signal)', skip));
runConformance(bridgeTarget(workerd.get, 'fetch', 'createFetchHandler on workerd (Miniflare 4, enable_request_signal)', skip));

it('the bridge is served by workerd itself', async () => {
  const { url } = await workerd.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toBe('Cloudflare-Workers');
});
