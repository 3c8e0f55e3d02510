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
const RESPONSE_STARTERS = ['send', 'json', 'jsonp', 'sendStatus', 'sendFile', 'download', 'render', 'redirect', 'format'] as const;

interface Guard {
  stream: Pick<EventStream, 'close'>;
  req: Request;
  onError: ExpressSseOptions['onError'];
}

/** The responses whose stream opened, with what their guarded methods need. */
const guards = new WeakMap<object, Guard>();
/** Per prototype (one per app), the same prototype with the guarded methods: defined once, not per response. */
const guardedPrototypes = new WeakMap<object, object>();
const guardedOnes = new WeakSet<object>();

function guardedPrototype(prototype: object): object {
  let guarded = guardedPrototypes.get(prototype);
  if (guarded !== undefined) return guarded;
  guarded = Object.create(prototype) as object;
  for (const method of RESPONSE_STARTERS) {
    Object.defineProperty(guarded, method, {
      configurable: true,
      writable: true,
      value: function (this: Response, ...args: unknown[]): unknown {
        const guard = guards.get(this);
        if (guard === undefined) return (Reflect.get(prototype, method, this) as (...args: unknown[]) => unknown).apply(this, args);
        const error = new SseError(
          'ERR_SSE_RESPONSE_STREAMING',
          `res.${method}() was called after the event stream opened, so the response belongs to the stream; the stream was closed. Send events with stream.send() and end the response with stream.close().`,
        );
        guard.stream.close();
        if (guard.onError === undefined) console.error('[@sse/express]', error);
        else guard.onError(error, guard.req, this);
        return this;
      },
    });
  }
  guardedPrototypes.set(prototype, guarded);
  guardedOnes.add(guarded);
  return guarded;
}

/**
 * From now on, a call to `res.send()`, `res.json()`… ends the stream cleanly and is reported to
 * `onError` as `SseError` `ERR_SSE_RESPONSE_STREAMING`, instead of throwing or corrupting it.
 * The guarded methods live on a prototype shared by the app's responses (eight methods defined
 * on every response cost some 2 KB per idle connection); a response gets it, and an entry here.
 */
function guardResponse(stream: Pick<EventStream, 'close'>, req: Request, res: Response, onError: ExpressSseOptions['onError']): void {
  guards.set(res, { stream, req, onError });
  const prototype = Object.getPrototypeOf(res) as object | null;
  if (prototype !== null && !guardedOnes.has(prototype)) Object.setPrototypeOf(res, guardedPrototype(prototype));
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
    // Express's router keeps its state for this request (its `next`, the matched layers, the final
    // handler) through `req.next` as long as the request lives: for a stream, its whole life, some
    // 0.8 KB. Only the methods guarded above read it once the response started.
    if (req.next !== undefined) req.next = undefined;
    return handler(stream, req, res);
  };
  return (req: Request, res: Response, next: NextFunction) => {
    serveNodeRequest<[Request, Response], E>({ req, res, args: [req, res], handler: guarded, options }).catch(next);
  };
}
