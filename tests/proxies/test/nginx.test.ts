import { describe } from 'vitest';
import { frontCases } from './cases.js';
import { hasBinary, nginx } from './fronts.js';

const hasNginx = hasBinary('nginx', ['-v']);

/** What the docs recommend for an SSE location (packages/node/README.md, "Behind a proxy"). */
export const NGINX_SSE_CONFIG = `
      proxy_http_version 1.1;
      proxy_set_header Connection '';
      proxy_buffering off;
      proxy_read_timeout 1h;`;

describe.skipIf(!hasNginx)('nginx 1.22 in front (skipped only when the nginx binary is missing: npm test installs it from apt)', () => {
  // proxy_pass only: proxy_buffering on and HTTP/1.0 to the origin. The origin's
  // `X-Accel-Buffering: no` turns the buffering off for its responses, so events still stream.
  describe('with its default proxy settings (proxy_pass only)', () => {
    frontCases({ label: 'nginx defaults', spec: nginx(''), upstreamHttpVersion: '1.0', departure: 'at-once' });
  });

  describe('with the SSE config the docs recommend', () => {
    frontCases({ label: 'nginx SSE config', spec: nginx(NGINX_SSE_CONFIG), upstreamHttpVersion: '1.1', departure: 'at-once' });
  });
});
