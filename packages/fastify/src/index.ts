import type {
  FastifyBaseLogger,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import { createNodeSink, waitForTurn } from '@sse/node/adapter';
import { checkServeOptions, requestFacts, serveEventStream } from '@sse/core/adapter';
import { SseError, type EventMap, type ServeOptions, type SseHandler } from '@sse/core';

export * from '@sse/core/user-api';

/** The route handler `sse()` returns, for the route's generics (`Params`, `Querystring`…) and server (HTTP/1 or HTTP/2). */
export type FastifySseRouteHandler<Route extends RouteGenericInterface = RouteGenericInterface, Server extends RawServerBase = RawServerDefault> = RouteHandlerMethod<
  Server,
  RawRequestDefaultExpression<Server>,
  RawReplyDefaultExpression<Server>,
  Route
>;

/**
 * What the handler, `authorize` and `onError` get after the stream: Fastify's `request` and
 * `reply`, read from the route handler type so that they match Fastify 4's and 5's own.
 */
export type FastifySseArgs<Route extends RouteGenericInterface = RouteGenericInterface, Server extends RawServerBase = RawServerDefault> = [
  request: Parameters<FastifySseRouteHandler<Route, Server>>[0],
  reply: Parameters<FastifySseRouteHandler<Route, Server>>[1],
];

/** Options of the Fastify `sse()`: stream options plus `authorize` and `onError`, which get `(request, reply)`. */
export type FastifySseOptions<Route extends RouteGenericInterface = RouteGenericInterface, Server extends RawServerBase = RawServerDefault> = ServeOptions<
  FastifySseArgs<Route, Server>
>;

/**
 * The default `onError`: the request's own Fastify logger (`request.log`), as for any other error
 * of a request. Bound to the logger alone, so that a stream without `onError` does not keep the
 * request and reply alive for it.
 */
function logError(this: FastifyBaseLogger, error: unknown): void {
  const refused = error instanceof SseError && error.code === 'ERR_SSE_AUTHORIZE_RESULT';
  this.error({ err: error }, refused ? 'the event stream request was refused with 403' : 'event stream failed; the stream was closed');
}

// The default for the last logger seen: without a logger of its own, Fastify gives every request
// the same one, so its streams share one function instead of a bound copy each.
let lastLogger: FastifyBaseLogger | undefined;
let lastReporter: ((error: unknown) => void) | undefined;

function reporterFor(logger: FastifyBaseLogger): (error: unknown) => void {
  if (logger !== lastLogger || lastReporter === undefined) {
    lastLogger = logger;
    lastReporter = logError.bind(logger);
  }
  return lastReporter;
}

/**
 * A Fastify 4/5 route handler that opens an event stream and calls `handler(stream, request, reply)`.
 * The stream stays open after the handler returns. Once the stream opens the reply is hijacked
 * (`reply.hijack()`): the stream writes to `reply.raw`, so Fastify never sends a reply of its
 * own, and the headers set with `reply.header()` before (hooks, plugins) go out with the stream's.
 * Rejections (`authorize`, 406) are ordinary Fastify replies, through your `onSend` hooks. A
 * failure before the stream opens (a response already started, a throwing `authorize`) goes to
 * Fastify's error handler. Without `onError`, handler failures go to `request.log.error`.
 */
export function sse<E extends EventMap = EventMap, Route extends RouteGenericInterface = RouteGenericInterface, Server extends RawServerBase = RawServerDefault>(
  handler: SseHandler<FastifySseArgs<Route, Server>, E>,
  options: FastifySseOptions<Route, Server> = {},
): FastifySseRouteHandler<Route, Server> {
  checkServeOptions(options);
  type Args = FastifySseArgs<Route, Server>;
  const route = async (request: Args[0], reply: Args[1]): Promise<unknown> => {
    const { raw: req } = request;
    const { raw: res } = reply;
    const turn = waitForTurn(req, res);
    if (turn !== true && !(await turn)) {
      // The client left while this pipelined request waited: there is nobody to answer.
      reply.hijack();
      return reply;
    }
    await serveEventStream<FastifySseArgs<Route, Server>, E>({
      request: requestFacts({ method: req.method, url: req.url, headers: req.headers, clientAddress: req.socket?.remoteAddress }),
      createSink: () => {
        // A response someone already started is left to Fastify: the sink's open() throws
        // SseHeadersSentError, which reaches the error handler like any handler failure.
        if (!res.headersSent && !res.writableEnded) {
          // Headers given to the reply (by hooks, @fastify/cors…) live on Fastify's side until it sends.
          for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
          reply.hijack();
        }
        return createNodeSink(req, res);
      },
      respond: (rejection) => {
        // Untyped: a route's `Reply` schema types its replies, and a rejection is none of them.
        const plain = reply as unknown as FastifyReply;
        plain.code(rejection.status).headers(rejection.headers);
        // Awaited by returning the reply below: it resolves once Fastify has sent it.
        void plain.send(rejection.body === '' ? undefined : rejection.body);
      },
      args: [request, reply],
      handler,
      options,
      defaultOnError: options.onError === undefined ? reporterFor((request as Pick<FastifyRequest, 'log'>).log) : undefined,
    });
    return reply;
  };
  // The return type Fastify computes from a route's `Reply` schema: a hijacked reply sends none.
  return route as FastifySseRouteHandler<Route, Server>;
}
