import { describe } from 'vitest';
import { frontCases } from './cases.js';
import { caddy, hasBinary } from './fronts.js';

const hasCaddy = hasBinary('caddy', ['version']);

describe.skipIf(!hasCaddy)('Caddy 2.6 in front (skipped only when the caddy binary is missing: npm test installs it from apt)', () => {
  describe('with encode gzip', () => {
    frontCases({
      label: 'Caddy encode gzip',
      spec: caddy(['encode gzip']),
      upstreamHttpVersion: '1.1',
      requestHeaders: { 'accept-encoding': 'gzip' },
      departure: 'at-once',
    });
  });

  // Not needed for an event stream (Caddy flushes text/event-stream on every write by itself), and
  // harmful: in this "low-latency mode" Caddy does not cancel the request to the app when the
  // client leaves, so the app sees the departure only at a write.
  describe('with reverse_proxy { flush_interval -1 }', () => {
    frontCases({ label: 'Caddy flush_interval -1', spec: caddy([], ['flush_interval -1']), upstreamHttpVersion: '1.1', departure: 'at-a-write' });
  });

  describe('with reverse_proxy only', () => {
    frontCases({ label: 'Caddy reverse_proxy', spec: caddy([]), upstreamHttpVersion: '1.1', departure: 'at-once' });
  });
});
