import type { Context, Env, Handler } from 'hono';
import { serveWebRequest, type EventMap, type ServeOptions, type SseHandler } from '@sse/core';

export * from '@sse/core';

/** Options of the Hono `sse()`: stream options plus `authorize` and `onError`, which get `c`. */
export type HonoSseOptions<H extends Env = Env> = ServeOptions<[Context<H>]>;

/**
 * A Hono handler that opens an event stream and calls `handler(stream, c)`. The body is a
 * `ReadableStream` with backpressure; the stream closes when the request's signal aborts or the
 * body is cancelled (whichever the runtime reports: `@hono/node-server`, Bun, Deno, Workers).
 */
export function sse<E extends EventMap = EventMap, H extends Env = Env>(
  handler: SseHandler<[Context<H>], E>,
  options: HonoSseOptions<H> = {},
): Handler<H> {
  return (c) => serveWebRequest<[Context<H>], E>(c.req.raw, [c], handler, options, remoteAddress(c));
}

/** The client address where the runtime exposes it (`@hono/node-server` puts Node's request in `c.env.incoming`). */
function remoteAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}
