import { SseError } from './errors.js';
import type { Rejection } from './rejection.js';
import { requestFacts } from './request.js';
import { checkServeOptions, serveEventStream, type ServeOptions, type SseHandler } from './serve.js';
import type { SseSink } from './sink.js';
import type { EventMap } from './stream-types.js';

/** Bytes a web stream sink's `ReadableStream` holds before it reports backpressure. */
const HIGH_WATER_MARK = 65_536;

export interface WebStreamSinkOptions {
  /** Aborts the stream when it fires, typically `request.signal`. */
  signal?: AbortSignal | undefined;
  /** HTTP version, when the runtime tells it. */
  httpVersion?: string;
  /**
   * Tears the connection down at once, where the runtime offers a way (under `@hono/node-server`:
   * destroying Node's response). Return `false` when it cannot yet (the response was not handed to
   * the server): the body then ends cleanly instead. Without it, `abort` errors the body stream,
   * which some servers log.
   */
  abort?: (() => boolean) | undefined;
}

/** What a Fetch-based adapter knows about the connection beyond the `Request`. */
export interface WebRuntimeInfo {
  /** The client's address, the default key of a registry's per-client cap. */
  clientAddress?: string | undefined;
  /** Tears the connection down at once (see {@link WebStreamSinkOptions.abort}). */
  abort?: (() => void) | undefined;
  /**
   * Exempts the connection from the server's idle timeout, called once a stream opens (not for a
   * rejection or a `HEAD`). On Bun: `server.timeout(request, 0)`, since `Bun.serve` cuts a
   * connection idle for 10 s by default, before the first keep-alive.
   */
  keepOpen?: (() => void) | undefined;
  /**
   * Called with the sink of a stream that opened, just before its `Response` is returned: a
   * runtime that can write to the connection itself hooks in here (see `WebStreamSink.bypass`).
   * On `@hono/node-server`, `@sse/hono` uses it to write events straight to Node's socket.
   */
  attach?: ((sink: WebStreamSink) => void) | undefined;
}

/** What takes over a web stream sink's writes from its body (see `WebStreamSink.bypass`). */
export interface SinkBypass {
  /** Writes one chunk to the connection; `false` when its buffer is full. */
  write(chunk: Uint8Array): boolean;
  /** Registers the one listener to call each time the connection can take more data. */
  onDrain(listener: () => void): void;
  /** Called once when the sink closes or aborts: stop listening. */
  release(): void;
}

/** The parts of Bun's `Server` (the second argument of `Bun.serve`'s `fetch`) this reads. */
interface BunServerLike {
  timeout(request: Request, seconds: number): void;
  requestIP(request: Request): { address: string } | null;
  upgrade(request: Request): boolean;
}

/** The part of Deno's `ServeHandlerInfo` (the second argument of `Deno.serve`'s handler) this reads. */
interface DenoServeInfoLike {
  remoteAddr: { hostname?: unknown };
}

function isBunServer(value: unknown): value is BunServerLike {
  const server = value as Partial<BunServerLike> | null | undefined;
  return typeof server?.timeout === 'function' && typeof server.requestIP === 'function' && typeof server.upgrade === 'function';
}

/**
 * What the server tells a Fetch handler in its second argument: Bun's `Server` (the client's
 * address, and a way out of the 10 s `idleTimeout`) or Deno's `ServeHandlerInfo` (the client's
 * address). Anything else (a Workers `env`, `undefined`) tells nothing.
 */
export function fetchServerInfo(request: Request, server: unknown): WebRuntimeInfo {
  if (isBunServer(server)) {
    return {
      clientAddress: server.requestIP(request)?.address,
      keepOpen: () => server.timeout(request, 0),
    };
  }
  const hostname = (server as Partial<DenoServeInfoLike> | null | undefined)?.remoteAddr?.hostname;
  return typeof hostname === 'string' ? { clientAddress: hostname } : {};
}

/** A sink whose output is a `ReadableStream`, for Fetch-style runtimes (Hono, Bun, Deno, Workers). */
export interface WebStreamSink extends SseSink {
  /** The response body. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Status given to `open` (200 until then). */
  readonly status: number;
  /** Headers given to `open`. */
  readonly headers: Record<string, string>;
  /** The chunk last handed to the body, if any. */
  readonly lastChunk: Uint8Array | undefined;
  /**
   * From now on, writes go to `writer` instead of the body; the body stays open, and ends when
   * the sink closes. For a server that writes the body's chunks unchanged to the connection:
   * call it once the server has written `lastChunk`. Returns `false`, and changes nothing, while
   * the body still holds unread chunks or after the sink closed.
   */
  bypass(writer: SinkBypass): boolean;
}

/**
 * Creates a sink over a `ReadableStream`. Backpressure follows the stream's desired size (the
 * consumer pulls); the body's `cancel` and the given signal abort the sink's signal.
 */
export function createWebStreamSink(options: WebStreamSinkOptions = {}): WebStreamSink {
  const controller = new AbortController();
  let streamController: ReadableStreamDefaultController<Uint8Array> | undefined;
  let drainListener: (() => void) | undefined;
  let done = false;
  let status = 200;
  let headers: Record<string, string> = {};
  let lastChunk: Uint8Array | undefined;
  let bypass: SinkBypass | undefined;

  const gone = (): void => {
    done = true;
    if (!controller.signal.aborted) controller.abort(new SseError('ERR_SSE_CLIENT_GONE', 'the client went away'));
  };
  const external = options.signal;
  if (external !== undefined) {
    if (external.aborted) gone();
    else external.addEventListener('abort', gone, { once: true });
  }
  const finish = (): void => {
    done = true;
    external?.removeEventListener('abort', gone);
    bypass?.release();
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        streamController = c;
      },
      pull() {
        // Once bypassed, the body is read only for its end: the connection's own drain counts.
        if (bypass === undefined) drainListener?.();
      },
      cancel() {
        gone();
        external?.removeEventListener('abort', gone);
      },
    },
    { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  );

  return {
    readable,
    get status() {
      return status;
    },
    get headers() {
      return headers;
    },
    get lastChunk() {
      return lastChunk;
    },
    bypass(writer) {
      if (done || bypass !== undefined || streamController === undefined || streamController.desiredSize !== HIGH_WATER_MARK) return false;
      bypass = writer;
      if (drainListener !== undefined) writer.onDrain(drainListener);
      return true;
    },
    signal: controller.signal,
    httpVersion: options.httpVersion,
    open(s, h) {
      status = s;
      headers = h;
    },
    write(chunk) {
      if (done || streamController === undefined) return false;
      if (bypass !== undefined) return bypass.write(chunk);
      lastChunk = chunk;
      streamController.enqueue(chunk);
      return (streamController.desiredSize ?? 0) > 0;
    },
    onDrain(listener) {
      drainListener = listener;
      bypass?.onDrain(listener);
    },
    close() {
      if (done) return;
      finish();
      try {
        streamController?.close();
      } catch {
        // Already cancelled by the consumer.
      }
    },
    abort() {
      if (done) return;
      finish();
      if (options.abort !== undefined) {
        if (options.abort()) return;
        try {
          streamController?.close();
        } catch {
          // Already cancelled by the consumer.
        }
        return;
      }
      try {
        streamController?.error(new SseError('ERR_SSE_ABORTED', 'the event stream was aborted'));
      } catch {
        // Already cancelled by the consumer.
      }
    },
  };
}

function rejectionResponse(rejection: Rejection): Response {
  return new Response(rejection.body === '' ? null : rejection.body, {
    status: rejection.status,
    headers: rejection.headers,
  });
}

/** What `serveWebRequest` needs for one request. */
export interface ServeWebRequestInit<Args extends unknown[], E extends EventMap = EventMap> {
  request: Request;
  /** What the handler (and `authorize`, `onError`, `clientKey`) receive after the stream. */
  args: Args;
  handler: SseHandler<Args, E>;
  options?: ServeOptions<Args> | undefined;
  /** What the adapter knows beyond the request (client address, a way to cut the connection). */
  runtime?: WebRuntimeInfo | undefined;
}

/**
 * Serves one Fetch `Request` as an event stream and returns the `Response`: the building block
 * of Fetch-based adapters.
 */
export async function serveWebRequest<Args extends unknown[], E extends EventMap = EventMap>(
  init: ServeWebRequestInit<Args, E>,
): Promise<Response> {
  const { request, runtime = {} } = init;
  let sink: WebStreamSink | undefined;
  let rejected: Response | undefined;
  // Before the Response is returned, the server has not written the head: cutting the connection
  // then would answer nothing at all, so a stream that fails that early ends cleanly instead.
  let handedOver = false;
  const runtimeAbort = runtime.abort;
  const abort =
    runtimeAbort === undefined
      ? undefined
      : (): boolean => {
          if (!handedOver) return false;
          runtimeAbort();
          return true;
        };
  await serveEventStream<Args, E>({
    request: requestFacts({ method: request.method, url: request.url, headers: request.headers, clientAddress: runtime.clientAddress }),
    createSink: () => (sink = createWebStreamSink({ signal: request.signal, abort })),
    respond: (rejection) => {
      rejected = rejectionResponse(rejection);
    },
    args: init.args,
    handler: init.handler,
    options: init.options,
  });
  if (rejected !== undefined) return rejected;
  if (sink === undefined) throw new SseError('ERR_SSE_INTERNAL', 'no sink was created');
  runtime.keepOpen?.();
  const response = new Response(sink.readable, { status: sink.status, headers: sink.headers });
  handedOver = true;
  if (request.method !== 'HEAD') runtime.attach?.(sink);
  return response;
}

/**
 * A Fetch handler `(request, server?) => Promise<Response>` for Bun, Deno, Cloudflare Workers and
 * any runtime with `Request`/`Response`: `Bun.serve({ fetch: createFetchHandler(handler) })`.
 * The second argument, when the server passes one, is read by {@link fetchServerInfo}: on Bun an
 * open stream is exempted from `idleTimeout`, and on Bun and Deno the client's address keys a
 * registry's per-client cap.
 */
export function createFetchHandler<E extends EventMap = EventMap>(
  handler: SseHandler<[Request], E>,
  options: ServeOptions<[Request]> = {},
): (request: Request, server?: unknown) => Promise<Response> {
  checkServeOptions(options);
  return (request, server) => serveWebRequest<[Request], E>({ request, args: [request], handler, options, runtime: fetchServerInfo(request, server) });
}
