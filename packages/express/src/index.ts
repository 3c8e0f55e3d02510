import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { serveNodeRequest } from '@sse/node';
import type { EventMap, ServeOptions, SseHandler } from '@sse/core';

export * from '@sse/core';

/** Options of the Express `sse()`: stream options plus `authorize` and `onError`, which get `(req, res)`. */
export type ExpressSseOptions = ServeOptions<[Request, Response]>;

/**
 * An Express 4/5 route handler that opens an event stream and calls `handler(stream, req, res)`.
 * The stream stays open after the handler returns. A response already started by earlier
 * middleware is passed to `next()` as `SseHeadersSentError`.
 */
export function sse<E extends EventMap = EventMap>(
  handler: SseHandler<[Request, Response], E>,
  options: ExpressSseOptions = {},
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    serveNodeRequest<[Request, Response], E>(req, res, [req, res], handler, options).catch(next);
  };
}
