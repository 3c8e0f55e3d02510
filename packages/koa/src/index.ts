import type { Context, Middleware } from 'koa';
import { createNodeSink, isConnectionError, waitForTurn } from '@sse/node/adapter';
import { checkServeOptions, requestFacts, serveEventStream } from '@sse/core/adapter';
import type { EventMap, ServeOptions, SseHandler } from '@sse/core';

export * from '@sse/core/user-api';

/** Options of the Koa `sse()`: stream options plus `authorize` and `onError`, which get `ctx`. */
export type KoaSseOptions = ServeOptions<[Context]>;

/**
 * A Koa 2/3 middleware that opens an event stream and calls `handler(stream, ctx)`. The stream
 * writes to `ctx.res` (with `ctx.respond = false`), so Koa never pipes a body that could end in
 * `ERR_STREAM_PREMATURE_CLOSE` when the client leaves. Rejections are ordinary Koa responses.
 */
export function sse<E extends EventMap = EventMap>(
  handler: SseHandler<[Context], E>,
  options: KoaSseOptions = {},
): Middleware {
  checkServeOptions(options);
  return async (ctx) => {
    const turn = waitForTurn(ctx.req, ctx.res);
    if (turn !== true && !(await turn)) {
      // The client left while this pipelined request waited: there is nobody to answer.
      ctx.respond = false;
      return;
    }
    await serveEventStream<[Context], E>({
      request: requestFacts({ method: ctx.method, url: ctx.url, headers: ctx.req.headers, clientAddress: ctx.req.socket?.remoteAddress }),
      createSink: () => {
        const sink = createNodeSink(ctx.req, ctx.res);
        ctx.respond = false;
        // Koa reports the response's socket errors as application errors; once streaming, a
        // reset or premature close only means the client left, and the stream handles that.
        if (Object.hasOwn(ctx, 'onerror')) {
          const onerror = ctx.onerror;
          ctx.onerror = (error) => {
            if (!isConnectionError(error)) onerror.call(ctx, error);
          };
        } else {
          // Koa's own onerror (on the context's prototype): one shared guard, no closure per stream.
          ctx.onerror = onStreamError;
        }
        return sink;
      },
      respond: (rejection) => {
        ctx.status = rejection.status;
        ctx.set(rejection.headers);
        if (rejection.body !== '') ctx.body = rejection.body;
      },
      args: [ctx],
      handler,
      options,
    });
  };
}

/** `ctx.onerror` of a streaming context: connection errors are the client leaving, the rest goes to Koa's own. */
function onStreamError(this: Context, error: Error): void {
  if (!isConnectionError(error)) (Object.getPrototypeOf(this) as Context).onerror.call(this, error);
}
