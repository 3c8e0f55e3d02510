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

  describe('with reverse_proxy only', () => {
    frontCases({ label: 'Caddy reverse_proxy', spec: caddy([]), upstreamHttpVersion: '1.1', departure: 'at-once' });
  });
});
