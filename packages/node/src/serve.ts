import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveEventStream, type EventMap, type EventStream, type ServeOptions, type SseHandler } from '@sse/core';
import { waitForTurn } from './pipelining.js';
import { createNodeSink, writeRejection, type NodeRequest, type NodeResponse } from './sink.js';

/**
 * Serves one Node request as an event stream: the flow `@sse/express` and `@sse/koa` share.
 * `args` are what the handler receives after the stream. Resolves with the stream, or
 * `undefined` when `authorize` rejected the request. A request pipelined behind an unfinished
 * response waits for its turn first (see `waitForTurn`), and resolves `undefined` if the
 * connection closes before.
 */
export async function serveNodeRequest<Args extends unknown[], E extends EventMap = EventMap>(
  req: NodeRequest,
  res: NodeResponse,
  args: Args,
  handler: SseHandler<Args, E>,
  options: ServeOptions<Args> = {},
): Promise<EventStream<E> | undefined> {
  const turn = waitForTurn(req, res);
  if (turn !== true && !(await turn)) return undefined;
  return serveEventStream<Args, E>(
    {
      lastEventIdHeader: req.headers['last-event-id'],
      url: req.url,
      accept: req.headers.accept,
      clientAddress: req.socket?.remoteAddress,
      createSink: () => createNodeSink(req, res),
      reject: (rejection) => writeRejection(res, rejection),
    },
    args,
    handler,
    options,
  );
}

/** Options of `sse()` for plain `node:http`. */
export type NodeSseOptions<Req extends NodeRequest = IncomingMessage, Res extends NodeResponse = ServerResponse> = ServeOptions<[Req, Res]>;

/**
 * A `(req, res)` listener for `node:http`, `node:https` or `node:http2` (compatibility API):
 * `http.createServer(sse((stream, req, res) => { … }))`. The stream stays open after the
 * handler returns, until `stream.close()` or the client leaves.
 */
export function sse<E extends EventMap = EventMap, Req extends NodeRequest = IncomingMessage, Res extends NodeResponse = ServerResponse>(
  handler: SseHandler<[Req, Res], E>,
  options: NodeSseOptions<Req, Res> = {},
): (req: Req, res: Res) => void {
  return (req, res) => {
    serveNodeRequest<[Req, Res], E>(req, res, [req, res], handler, options).catch((error: unknown) => {
      // Nothing was streamed: answer 500 when possible, else cut the connection.
      console.error('[@sse/node] could not open the event stream:', error);
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        (res as ServerResponse).end('Internal Server Error');
      } else {
        res.destroy();
      }
    });
  };
}
