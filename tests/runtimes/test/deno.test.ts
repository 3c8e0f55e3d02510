import { afterAll, expect, it } from 'vitest';
import { runConformance } from '@sse/conformance';
import { bridgeTarget, lazyRuntime } from './bridge.js';

const deno = lazyRuntime('deno');
afterAll(() => deno.stop());

const skip = {
  // Measured: one 200,002-byte enqueue goes out as HTTP/1.1 chunks of 65,536, 65,536, 65,536 and
  // 3,394 bytes. Events under 64 KiB arrive one per chunk; a larger one still arrives whole and in
  // order, but spread over several chunks, which no sink can prevent.
  'whole-events': "Deno.serve frames a body chunk over 64 KiB as several HTTP/1.1 chunks (the suite's 200 kB event)",
  // Seen in about one run in four through the bridge (on Bun once, under load): the queue drained
  // between two overflows and each was announced, two sse-gap events where the case expects one.
  // The same flood produced in Deno itself (no bridge) made one episode in 8 runs of 8, so it is
  // the bridge's producer, whose sends reach Deno in bursts. test/backpressure.test.ts runs
  // these checks with the producer in Deno.
  'backpressure-drop-oldest': 'through the bridge the flood reaches Deno in bursts, and drops sometimes come in two episodes (two sse-gap events; in process, one)',
};
runConformance(bridgeTarget(deno.get, 'hono', '@sse/hono on Deno 2.9 (Deno.serve)', skip));
runConformance(bridgeTarget(deno.get, 'fetch', 'createFetchHandler on Deno 2.9 (Deno.serve)', skip));

it('the bridge is served by Deno itself', async () => {
  const { url } = await deno.get();
  expect(await (await fetch(`${url}/runtime`)).text()).toMatch(/^Deno\/2\.9\./);
});

it('the core reads the client address from what Deno passes the fetch handler', async () => {
  const { url } = await deno.get();
  expect(await (await fetch(`${url}/client-address`)).text()).toBe('127.0.0.1');
});
