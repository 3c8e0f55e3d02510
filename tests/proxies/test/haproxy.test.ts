import { describe } from 'vitest';
import { frontCases } from './cases.js';
import { hasBinary, haproxy } from './fronts.js';

const hasHaproxy = hasBinary('haproxy', ['-v']);

// Each option is tried alone too, so that each effect is tied to its option:
// without `http-no-delay` every event (and the head) waits ~200 ms in HAProxy (figures printed,
// not asserted); without `abortonclose` a client's departure reaches the origin only through a
// write (HAProxy forwards no FIN, not even a half-close), so keep-alive is what finds it.
const VARIANTS = [
  { options: ['option http-no-delay', 'option abortonclose'], departure: 'at-once' },
  { options: ['option http-no-delay'], departure: 'at-a-write' },
  { options: ['option abortonclose'], departure: 'at-once' },
  { options: [], departure: 'at-a-write' },
] as const;

describe.skipIf(!hasHaproxy)('HAProxy 2.6 in front (skipped only when the haproxy binary is missing: npm test installs it from apt)', () => {
  for (const { options, departure } of VARIANTS) {
    const label = `HAProxy with ${options.length === 0 ? 'neither option' : options.join(' + ')}`;
    describe(`with ${options.length === 0 ? 'neither http-no-delay nor abortonclose' : options.join(', ')}`, () => {
      frontCases({ label, spec: haproxy([...options]), upstreamHttpVersion: '1.1', departure });
    });
  }
});
