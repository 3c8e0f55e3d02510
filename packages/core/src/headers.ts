/** Headers every event stream starts with. */
export function defaultHeaders(httpVersion: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    // no-transform: proxies and compressors must not buffer or rewrite the stream.
    'cache-control': 'no-cache, no-transform',
    // nginx buffers proxied responses unless told otherwise.
    'x-accel-buffering': 'no',
  };
  // Connection is a hop-by-hop header that HTTP/2 and HTTP/3 forbid.
  if (httpVersion !== undefined && httpVersion.startsWith('1')) headers.connection = 'keep-alive';
  return headers;
}

/** The same headers with lower-case names, so that user headers override the defaults whatever their case. */
export function lowerCaseKeys(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
