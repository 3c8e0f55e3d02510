import { requestEventStream, type EventStreamClient } from '@sse/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { haproxy, hasBinary, nginx, NGINX_SSE_CONFIG, report, startFront, startOrigin, type FrontSpec } from './fronts.js';

/** The fronts' idle timeout in these tests; keep-alive comments come 20 times as often. */
const IDLE_TIMEOUT_S = 2;
const KEEP_ALIVE_MS = 100;

const FRONTS: Array<{ label: string; installed: boolean; spec: FrontSpec }> = [
  {
    label: `nginx with the SSE config and proxy_read_timeout ${IDLE_TIMEOUT_S}s`,
    installed: hasBinary('nginx', ['-v']),
    spec: nginx(NGINX_SSE_CONFIG.replace('proxy_read_timeout 1h', `proxy_read_timeout ${IDLE_TIMEOUT_S}s`)),
  },
  {
    // `timeout tunnel` applies only once a connection is upgraded (WebSocket, CONNECT): an event
    // stream stays under `timeout client` / `timeout server`, whatever the tunnel timeout says.
    label: `HAProxy with timeout client/server ${IDLE_TIMEOUT_S}s and timeout tunnel 1h`,
    installed: hasBinary('haproxy', ['-v']),
    spec: haproxy(['option http-no-delay', 'option abortonclose', `timeout client ${IDLE_TIMEOUT_S}s`, `timeout server ${IDLE_TIMEOUT_S}s`, 'timeout tunnel 1h']),
  },
];

describe('idle timeouts of the fronts against keep-alive comments', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function through(spec: FrontSpec, keepAlive: number | false): Promise<{ client: EventStreamClient; origin: Awaited<ReturnType<typeof startOrigin>> }> {
    const origin = await startOrigin({ keepAlive });
    stops.push(() => origin.close());
    const front = await startFront(spec, origin.url, '/events');
    stops.push(() => front.stop());
    const client = await requestEventStream(front.url);
    stops.push(async () => client.close());
    return { client, origin };
  }

  for (const { label, installed, spec } of FRONTS) {
    describe.skipIf(!installed)(`${label} (skipped only when its binary is missing: npm test installs it from apt)`, () => {
      it('cuts a stream that stays quiet longer than the timeout; the server sees it close', async () => {
        const { client, origin } = await through(spec, false);
        const start = performance.now();
        await client.waitForEnd();
        report(`${label}: a quiet stream was cut after (ms)`, Math.round(performance.now() - start));
        expect(client.events).toEqual([]);
        const [stream] = origin.streams;
        expect((await stream!.closed).reason).toBe('client');
      });

      it(`keeps a stream with keep-alive comments every ${KEEP_ALIVE_MS} ms open past the timeout`, async () => {
        const { client, origin } = await through(spec, KEEP_ALIVE_MS);
        // 30 comments span 3 s, longer than the 2 s timeout: a front that counted only events would have cut it.
        let ended: string | undefined;
        client.waitForEnd().then((outcome) => (ended = outcome), () => undefined);
        await client.until(() => client.comments.length >= 31, '31 comments (the one at open and 30 keep-alives)');
        expect(ended).toBeUndefined();
        expect(origin.streams[0]!.isClosed).toBe(false);
      });
    });
  }
});
