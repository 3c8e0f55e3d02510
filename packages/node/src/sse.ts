import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventMap, ServeOptions, SseHandler } from '@sse/core';
import { checkServeOptions } from '@sse/core/adapter';
import { serveNodeRequest } from './serve-request.js';
import type { NodeRequest, NodeResponse } from './sink.js';

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
  checkServeOptions(options);
  return (req, res) => {
    serveNodeRequest<[Req, Res], E>({ req, res, args: [req, res], handler, options }).catch((error: unknown) => {
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
