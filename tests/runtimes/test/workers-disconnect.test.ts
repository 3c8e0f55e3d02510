// A worker on its own, as deployed (bridge/probe-worker.ts: no control server, nothing pending
// but the stream), under workerd's default compatibility flags and with `enable_request_signal`:
// when is a client that leaves seen? Waits count keep-alive comments, never the clock.
import { afterAll, describe, expect, it } from 'vitest';
import { requestEventStream, WAIT_MS } from '@sse/conformance';
import { lazyRuntime } from './bridge.js';

interface Stats {
  open: number;
  subscribers: number;
  comments: number;
  closedBy: Record<string, number>;
}

const configs = [
  { flags: [] as string[], name: 'default flags' },
  { flags: ['enable_request_signal'], name: 'enable_request_signal' },
].map((config) => ({ ...config, runtime: lazyRuntime('workerd', { script: 'probe-worker', compatibilityFlags: config.flags }) }));
afterAll(() => Promise.all(configs.map(({ runtime }) => runtime.stop())));

async function stats(url: string): Promise<Stats> {
  return (await (await fetch(`${url}/stats`)).json()) as Stats;
}

async function until(url: string, condition: (s: Stats) => boolean, what: string): Promise<Stats> {
  const deadline = Date.now() + 3 * WAIT_MS;
  for (;;) {
    const s = await stats(url);
    if (condition(s)) return s;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(configs)('workerd with $name: a client that leaves', ({ name, runtime }) => {
  it.each(['hono', 'fetch'])('%s', async (api) => {
    const { url } = await runtime.get();
    const before = await stats(url);
    const client = await requestEventStream(`${url}/events?api=${api}&keepAlive=20`);
    await until(url, (s) => s.open === before.open + 1 && s.subscribers === before.subscribers + 1, 'the stream to open and subscribe');
    await client.until(() => client.comments.length >= 3, 'keep-alives');
    client.close();
    if (name === 'default flags') {
      // Never reported. The departed stream's own timers stop (its request is gone), so the clock
      // here is a second stream that stays: after 25 of its keep-alives and a broadcast, the first
      // is still open and subscribed, and sending to it does not fail. It leaks.
      const witness = await requestEventStream(`${url}/events?api=${api}&keepAlive=20`);
      const seen = witness.comments.length;
      await witness.until(() => witness.comments.length >= seen + 25, '25 keep-alives of the stream that stays');
      await fetch(`${url}/broadcast?data=after`);
      await witness.waitForEvent((event) => event.data === 'after');
      const after = await stats(url);
      console.log(`[measured] workerd ${name} ${api}: the departed stream is still open after 25 keep-alives of another and a broadcast`);
      expect([after.open, after.subscribers, after.closedBy.client]).toEqual([before.open + 2, before.subscribers + 2, before.closedBy.client]);
      witness.close();
    } else {
      const left = await stats(url);
      const after = await until(url, (s) => s.open === before.open && s.subscribers === before.subscribers, 'the stream to close and leave its channel');
      console.log(`[measured] workerd ${name} ${api}: seen after ${after.comments - left.comments} keep-alive(s)`);
      expect(after.closedBy.client).toBe((before.closedBy.client ?? 0) + 1);
    }
  }, 4 * WAIT_MS);
});

describe.each(configs)('workerd with $name: keepAlive false', ({ runtime }) => {
  it('an idle stream with nothing pending is ended by workerd as hung, and the stream is never told', async () => {
    const { url } = await runtime.get();
    const before = await stats(url);
    const client = await requestEventStream(`${url}/events?api=fetch&keepAlive=false`);
    // The client sees a clean end right after the bytes at open (workerd logs "canceled this
    // request because it detected that your Worker's code had hung")...
    expect(await client.waitForEnd()).toBe('end');
    expect(client.text).toBe(':\n\n');
    // ...while the stream stays open and subscribed, even through a broadcast.
    await fetch(`${url}/broadcast?data=lost`);
    const after = await stats(url);
    expect([after.open, after.subscribers, after.closedBy.client]).toEqual([before.open + 1, before.subscribers + 1, before.closedBy.client]);
  });
});
