import type { Context, Env, Handler } from 'hono';
import { serveWebRequest, type EventMap, type ServeOptions, type SseHandler, type WebRuntimeInfo } from '@sse/core';
import { waitForTurn, type NodeRequest, type NodeResponse } from '@sse/node';

export * from '@sse/core';

/** Options of the Hono `sse()`: stream options plus `authorize` and `onError`, which get `c`. */
export type HonoSseOptions<H extends Env = Env> = ServeOptions<[Context<H>]>;

/**
 * A Hono handler that opens an event stream and calls `handler(stream, c)`. The body is a
 * `ReadableStream` with backpressure; the stream closes when the request's signal aborts or the
 * body is cancelled (whichever the runtime reports: `@hono/node-server`, Bun, Deno, Workers).
 * On `@hono/node-server`, a request pipelined behind an unfinished response waits for its turn
 * before anything runs (see `waitForTurn` in `@sse/node`).
 */
export function sse<E extends EventMap = EventMap, H extends Env = Env>(
  handler: SseHandler<[Context<H>], E>,
  options: HonoSseOptions<H> = {},
): Handler<H> {
  return (c) => {
    const env = c.env as NodeServerEnv | undefined;
    const turn = env?.incoming === undefined || env.outgoing === undefined ? true : waitForTurn(env.incoming, env.outgoing);
    if (turn === true) return serveWebRequest<[Context<H>], E>(c.req.raw, [c], handler, options, runtimeInfo(c));
    return turn.then((ready) =>
      ready ? serveWebRequest<[Context<H>], E>(c.req.raw, [c], handler, options, runtimeInfo(c)) : clientClosedRequest(),
    );
  };
}

/**
 * What a pipelined request whose client left before its turn answers: nobody receives it (the
 * connection is closed); the status is nginx's "client closed request", for access logs.
 */
function clientClosedRequest(): Response {
  return new Response(null, { status: 499 });
}

interface NodeServerEnv {
  incoming?: NodeRequest;
  outgoing?: NodeResponse;
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
