import { readFileSync } from 'node:fs';

/** One file of the page, with the headers it is served with. */
export interface PageAsset {
  /** The route, e.g. `/` or `/app.js`. */
  path: string;
  body: string;
  headers: Record<string, string>;
}

const PUBLIC_DIR = new URL('../public/', import.meta.url);

// The page's own script and style only: even if user text ever reached the DOM as HTML,
// no injected script or inline handler could run.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: ReadonlyArray<{ path: string; file: string; type: string }> = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  // @sse/client as one ES module (`pnpm -F @sse/client bundle` writes it; a test keeps it fresh).
  { path: '/sse-client.js', file: 'sse-client.js', type: 'text/javascript; charset=utf-8' },
  { path: '/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
];

/** The page all four apps serve as is (read once, at startup). */
export function loadPage(): PageAsset[] {
  return FILES.map(({ path, file, type }) => ({
    path,
    body: readFileSync(new URL(file, PUBLIC_DIR), 'utf8'),
    headers: {
      'content-type': type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(file.endsWith('.html') ? { 'content-security-policy': CONTENT_SECURITY_POLICY } : {}),
    },
  }));
}
