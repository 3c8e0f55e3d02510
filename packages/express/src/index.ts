import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { serveNodeRequest } from '@sse/node/adapter';
import { checkServeOptions } from '@sse/core/adapter';
import { SseError, type EventMap, type EventStream, type ServeOptions, type SseHandler } from '@sse/core';

export * from '@sse/core/user-api';

/** Options of the Express `sse()`: stream options plus `authorize` and `onError`, which get `(req, res)`. */
export type ExpressSseOptions = ServeOptions<[Request, Response]>;

/**
 * The Express methods that start a response of their own. Once the stream is open they would
 * throw "Cannot set headers after they are sent" (and crash the process when called from a
 * timer) or write their body into the event stream.
 */
const RESPONSE_STARTERS = ['send', 'json', 'jsonp', 'sendStatus', 'sendFile', 'download', 'render', 'redirect'] as const;

/**
 * From now on, a call to `res.send()`, `res.json()`… ends the stream cleanly and is reported to
 * `onError` as `SseError` `ERR_SSE_RESPONSE_STREAMING`, instead of throwing or corrupting it.
 */
function guardResponse(stream: Pick<EventStream, 'close'>, req: Request, res: Response, onError: ExpressSseOptions['onError']): void {
  for (const method of RESPONSE_STARTERS) {
    Object.defineProperty(res, method, {
      configurable: true,
      writable: true,
      value: () => {
        const error = new SseError(
          'ERR_SSE_RESPONSE_STREAMING',
          `res.${method}() was called after the event stream opened, so the response belongs to the stream; the stream was closed. Send events with stream.send() and end the response with stream.close().`,
        );
        stream.close();
        if (onError === undefined) console.error('[@sse/express]', error);
        else onError(error, req, res);
        return res;
      },
    });
  }
}

/**
 * An Express 4/5 route handler that opens an event stream and calls `handler(stream, req, res)`.
 * The stream stays open after the handler returns. A response already started by earlier
 * middleware is passed to `next()` as `SseHeadersSentError`.
 */
export function sse<E extends EventMap = EventMap>(
  handler: SseHandler<[Request, Response], E>,
  options: ExpressSseOptions = {},
): RequestHandler {
  checkServeOptions(options);
  const guarded: SseHandler<[Request, Response], E> = (stream, req, res) => {
    guardResponse(stream, req, res, options.onError);
    return handler(stream, req, res);
  };
  return (req: Request, res: Response, next: NextFunction) => {
    serveNodeRequest<[Request, Response], E>({ req, res, args: [req, res], handler: guarded, options }).catch(next);
  };
}
