import { requestFacts, serveEventStream, type ServeOptions, type SseHandler } from '@sse/core/adapter';
import type { EventMap, EventStream } from '@sse/core';
import { waitForTurn } from './pipelining.js';
import { createNodeSink, writeRejection, type NodeRequest, type NodeResponse } from './sink.js';

/** What `serveNodeRequest` needs for one request. */
export interface ServeNodeRequestInit<Args extends unknown[], E extends EventMap = EventMap> {
  req: NodeRequest;
  res: NodeResponse;
  /** What the handler (and `authorize`, `onError`, `clientKey`) receive after the stream. */
  args: Args;
  handler: SseHandler<Args, E>;
  options?: ServeOptions<Args> | undefined;
}

/**
 * Serves one Node request as an event stream: the flow `@sse/express` and `sse()` share.
 * Resolves with the stream, or `undefined` when the request was rejected. A request pipelined
 * behind an unfinished response waits for its turn first (see `waitForTurn`), and resolves
 * `undefined` if the connection closes before.
 */
export async function serveNodeRequest<Args extends unknown[], E extends EventMap = EventMap>(
  init: ServeNodeRequestInit<Args, E>,
): Promise<EventStream<E> | undefined> {
  const { req, res } = init;
  const turn = waitForTurn(req, res);
  if (turn !== true && !(await turn)) return undefined;
  return serveEventStream<Args, E>({
    // The address keys a registry's per-client cap, and only that: read it only then, since Node
    // caches a peer-name object on the socket once asked (some 100 bytes per idle connection).
    request: requestFacts({ method: req.method, url: req.url, headers: req.headers, clientAddress: init.options?.registry === undefined ? undefined : req.socket?.remoteAddress }),
    createSink: () => createNodeSink(req, res),
    respond: (rejection) => writeRejection(res, rejection),
    args: init.args,
    handler: init.handler,
    options: init.options,
  });
}
