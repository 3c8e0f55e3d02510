import type { Context, Env, Handler } from 'hono';
import { checkServeOptions, fetchServerInfo, serveWebRequest, type WebRuntimeInfo } from '@sse/core/adapter';
import type { EventMap, ServeOptions, SseHandler } from '@sse/core';
import { closeOnClientFin, waitForTurn, type NodeRequest, type NodeResponse } from '@sse/node/adapter';
import { writeToNodeSocket } from './node-socket.js';

export * from '@sse/core/user-api';

/** Options of the Hono `sse()`: stream options plus `authorize` and `onError`, which get `c`. */
export type HonoSseOptions<H extends Env = Env> = ServeOptions<[Context<H>]>;

/**
 * A Hono handler that opens an event stream and calls `handler(stream, c)`. The body is a
 * `ReadableStream` with backpressure; the stream closes when the request's signal aborts or the
 * body is cancelled (whichever the runtime reports: `@hono/node-server`, Bun, Deno, Workers).
 * On `@hono/node-server`, once the server has written the head and the body's first chunks
 * unchanged, events go straight to Node's socket as HTTP/1.1 chunks (compression, HTTP/2 or any
 * transform of the body keep them on the body stream). A request pipelined behind an unfinished response waits for its turn
 * before anything runs, and a GET stream's client that half-closes its connection has left (see
 * `waitForTurn` and `closeOnClientFin` in `@sse/node`). On Bun and Deno, `c.env` is what the
 * server passed (see `fetchServerInfo`): on Bun an open stream is exempted from `idleTimeout`.
 */
export function sse<E extends EventMap = EventMap, H extends Env = Env>(
  handler: SseHandler<[Context<H>], E>,
  options: HonoSseOptions<H> = {},
): Handler<H> {
  checkServeOptions(options);
  return (c) => {
    const env = c.env as NodeServerEnv | undefined;
    const incoming = env?.incoming;
    const outgoing = env?.outgoing;
    const serveRequest = (): Promise<Response> => serveWebRequest<[Context<H>], E>({ request: c.req.raw, args: [c], handler, options, runtime: runtimeInfo(c) });
    if (incoming === undefined || outgoing === undefined) return serveRequest();
    // On @hono/node-server: Node's own request and response, for what only they can tell.
    const serve = async (): Promise<Response> => {
      const response = await serveRequest();
      // A HEAD's answer has the stream's headers but no stream to watch. (Reading response.body here
      // would make @hono/node-server buffer the body of a stream that already ended, with a length.)
      if (incoming.method !== 'HEAD' && response.headers.get('content-type')?.startsWith('text/event-stream') === true) closeOnClientFin(incoming, outgoing);
      return response;
    };
    const turn = waitForTurn(incoming, outgoing);
    return turn === true ? serve() : turn.then((ready) => (ready ? serve() : clientClosedRequest()));
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
 * write an error text into the stream). On Bun and Deno, `c.env` is the server's second argument.
 */
function runtimeInfo(c: Context): WebRuntimeInfo {
  const env = c.env as NodeServerEnv | undefined;
  const outgoing = env?.outgoing;
  if (env?.incoming === undefined) return fetchServerInfo(c.req.raw, c.env);
  return {
    clientAddress: env?.incoming?.socket?.remoteAddress,
    // Bound rather than an arrow function: the sink keeps it for the stream's life, and a closure
    // would keep this call's scope with it.
    abort: outgoing === undefined ? undefined : outgoing.destroy.bind(outgoing),
    attach: outgoing === undefined ? undefined : (sink) => writeToNodeSocket(sink, outgoing),
    // The server cancels the body when the connection closes (or is gone before it writes).
    clientSignal: outgoing === undefined ? undefined : null,
  };
}
