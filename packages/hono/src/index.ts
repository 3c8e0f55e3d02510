import type { Context, Env, Handler } from 'hono';
import { serveWebRequest, type WebRuntimeInfo } from '@sse/core/adapter';
import type { EventMap, ServeOptions, SseHandler } from '@sse/core';

export * from '@sse/core/user-api';

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
  return (c) => serveWebRequest<[Context<H>], E>({ request: c.req.raw, args: [c], handler, options, runtime: runtimeInfo(c) });
}

interface NodeServerEnv {
  incoming?: { socket?: { remoteAddress?: string } };
  outgoing?: { destroy(): void };
}

/**
 * What `@hono/node-server` exposes in `c.env`: the client address, and Node's response, which is
 * destroyed to cut a slow client off (erroring the body instead would make the server log it and
 * write an error text into the stream).
 */
function runtimeInfo(c: Context): WebRuntimeInfo {
  const env = c.env as NodeServerEnv | undefined;
  const outgoing = env?.outgoing;
  return {
    clientAddress: env?.incoming?.socket?.remoteAddress,
    abort: outgoing === undefined ? undefined : () => outgoing.destroy(),
  };
}
