import { SseError } from './errors.js';
import type { Rejection } from './rejection.js';
import { requestFacts } from './request.js';
import { checkServeOptions, serveEventStream, type ServeOptions, type SseHandler } from './serve.js';
import { sinkDrained, sinkGone, type SinkListener, type SseSink } from './sink.js';
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
  /**
   * What aborts when the client has gone: `request.signal` unless given. `null` when the body's
   * `cancel` says it already: `@hono/node-server` cancels the body when the connection closes,
   * and reading its `request.signal` creates an `AbortController` (some 900 bytes) per request.
   */
  clientSignal?: AbortSignal | null | undefined;
}

/** What takes over a web stream sink's writes from its body (see `WebStreamSink.bypass`). */
export interface SinkBypass {
  /** Writes one chunk to the connection; `false` when its buffer is full. */
  write(chunk: Uint8Array): boolean;
  /** Registers the one listener to call each time the connection can take more data. */
  onDrain(listener: () => void): void;
  /** Called once when the sink closes or aborts: stop listening. */
  release(): void;
  /**
   * Takes the response's end over from the body, when present (with {@link SinkBypass.onGone}).
   * The sink then closes its body at once, so that the server's read of it finishes and what the
   * server keeps for that read (its promises, the body's reader) is freed while the stream stays
   * open; the adapter keeps the server from ending the response at that end of the body. When the
   * sink closes, it calls `end()` instead: the writer ends the response itself.
   */
  end?(): void;
  /**
   * With `end`: registers the listener to call once when the connection closes before the sink
   * did (the body's `cancel`, which said so until then, no longer comes once the body ended).
   */
  onGone?(listener: () => void): void;
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
  /** The response body (once a writer took the end over, see `bypass`, an ended stream in its place). */
  readonly readable: ReadableStream<Uint8Array>;
  /** Status given to `open` (200 until then). */
  readonly status: number;
  /** Headers given to `open`. */
  readonly headers: Record<string, string>;
  /** The chunk last handed to the body, if any (none once a writer took the end over). */
  readonly lastChunk: Uint8Array | undefined;
  /**
   * From now on, writes go to `writer` instead of the body; the body stays open, and ends when
   * the sink closes (a writer with `end` and `onGone` takes the end over, and the body ends at
   * once: see {@link SinkBypass.end}). For a server that writes the body's chunks unchanged to the
   * connection: call it once the server has written `lastChunk`. Returns `false`, and changes
   * nothing, while the body still holds unread chunks or after the sink closed.
   */
  bypass(writer: SinkBypass): boolean;
}

/**
 * Creates a sink over a `ReadableStream`. Backpressure follows the stream's desired size (the
 * consumer pulls); the body's `cancel` and the given signal mean the client has gone.
 */
export function createWebStreamSink(options: WebStreamSinkOptions = {}): WebStreamSink {
  return new WebSink(options);
}

/** Counts a body's queue in bytes. One for every sink. */
const BODY_STRATEGY: QueuingStrategy<Uint8Array> = { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength };

// A class rather than an object literal of closures: one sink lives as long as its connection,
// and a literal with accessors is a dictionary-mode object of some 800 bytes in V8, before its closures.
class WebSink implements WebStreamSink {
  /** Dropped once a writer took the end over: the server has read the body to its end. */
  #readable: ReadableStream<Uint8Array> | undefined;
  readonly httpVersion: string | undefined;
  // Created only when `signal` is read: the core listens through `listen`.
  #controller: AbortController | undefined;
  #listener: SinkListener | undefined;
  #drainCallback: (() => void) | undefined;
  #gone = false;
  #done = false;
  #status = 200;
  #headers: Record<string, string> = {};
  #lastChunk: Uint8Array | undefined;
  #bypass: SinkBypass | undefined;
  /** The bypass took the response's end over (see `SinkBypass.end`): the body has ended. */
  #endsWithWriter = false;
  #body: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly #external: AbortSignal | undefined;
  readonly #onExternalAbort: (() => void) | undefined;
  readonly #abort: (() => boolean) | undefined;

  constructor(options: WebStreamSinkOptions) {
    this.httpVersion = options.httpVersion;
    this.#abort = options.abort;
    const external = options.signal;
    if (external !== undefined) {
      this.#external = external;
      if (external.aborted) this.#clientGone();
      else external.addEventListener('abort', (this.#onExternalAbort = () => this.#clientGone()), { once: true });
    }
    this.#readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#body = controller;
        },
        pull: () => {
          // Once bypassed, the body is read only for its end: the connection's own drain counts.
          if (this.#bypass === undefined) this.#drained();
        },
        cancel: () => {
          this.#clientGone();
          this.#stopListening();
        },
      },
      BODY_STRATEGY,
    );
  }

  get readable(): ReadableStream<Uint8Array> {
    // After a hand-over (see `bypass`) the body has ended: an ended one stands in for it.
    return (this.#readable ??= new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }));
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#gone) this.#controller.abort(goneError());
    }
    return this.#controller.signal;
  }

  get status(): number {
    return this.#status;
  }

  get headers(): Record<string, string> {
    return this.#headers;
  }

  get lastChunk(): Uint8Array | undefined {
    return this.#lastChunk;
  }

  listen(listener: SinkListener | undefined): boolean {
    if (this.#gone) return true;
    this.#listener = listener;
    return false;
  }

  onDrain(listener: () => void): void {
    this.#drainCallback = listener;
  }

  bypass(writer: SinkBypass): boolean {
    if (this.#done || this.#bypass !== undefined || this.#body === undefined || this.#body.desiredSize !== HIGH_WATER_MARK) return false;
    this.#bypass = writer;
    // Bound methods rather than arrow functions: the writer keeps them as long as the stream
    // lives, and a bound method is smaller than a closure with its scope.
    writer.onDrain(this.#drained.bind(this));
    if (writer.end !== undefined && writer.onGone !== undefined) {
      // The writer ends the response: the body ends now, and with it the server's read of it.
      const body = this.#body;
      this.#body = undefined;
      this.#readable = undefined;
      this.#lastChunk = undefined;
      this.#endsWithWriter = true;
      writer.onGone(this.#writerGone.bind(this));
      try {
        body.close();
      } catch {
        // Already cancelled by the consumer.
      }
    }
    return true;
  }

  open(status: number, headers: Record<string, string>): void {
    this.#status = status;
    this.#headers = headers;
  }

  write(chunk: Uint8Array): boolean {
    if (this.#done) return false;
    if (this.#bypass !== undefined) return this.#bypass.write(chunk);
    const body = this.#body;
    if (body === undefined) return false;
    this.#lastChunk = chunk;
    body.enqueue(chunk);
    return (body.desiredSize ?? 0) > 0;
  }

  close(): void {
    if (this.#done) return;
    const writer = this.#endsWithWriter ? this.#bypass : undefined;
    this.#finish();
    if (writer !== undefined) {
      writer.end?.();
      return;
    }
    try {
      this.#body?.close();
    } catch {
      // Already cancelled by the consumer.
    }
  }

  abort(): void {
    if (this.#done) return;
    const writer = this.#endsWithWriter ? this.#bypass : undefined;
    this.#finish();
    if (this.#abort !== undefined) {
      if (this.#abort()) return;
      if (writer !== undefined) {
        writer.end?.();
        return;
      }
      try {
        this.#body?.close();
      } catch {
        // Already cancelled by the consumer.
      }
      return;
    }
    if (writer !== undefined) {
      // The body has ended already: only the writer can end the response now.
      writer.end?.();
      return;
    }
    try {
      this.#body?.error(new SseError('ERR_SSE_ABORTED', 'the event stream was aborted'));
    } catch {
      // Already cancelled by the consumer.
    }
  }

  #drained(): void {
    this.#drainCallback?.();
    this.#listener?.[sinkDrained]();
  }

  /** The writer's connection closed: the client left, unless the stream had ended already. */
  #writerGone(): void {
    if (!this.#done) this.#clientGone();
  }

  #clientGone(): void {
    this.#done = true;
    if (this.#gone) return;
    this.#gone = true;
    this.#controller?.abort(goneError());
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.[sinkGone]();
  }

  #stopListening(): void {
    if (this.#onExternalAbort !== undefined) this.#external?.removeEventListener('abort', this.#onExternalAbort);
  }

  #finish(): void {
    this.#done = true;
    this.#stopListening();
    this.#bypass?.release();
  }
}

function goneError(): SseError {
  return new SseError('ERR_SSE_CLIENT_GONE', 'the client went away');
}

function rejectionResponse(rejection: Rejection): Response {
  return new Response(rejection.body === '' ? null : rejection.body, {
    status: rejection.status,
    headers: rejection.headers,
  });
}

/**
 * The sink's `abort` on a runtime that can cut the connection. Before the Response is returned, the
 * server has not written the head: cutting the connection then would answer nothing at all, so a
 * stream that fails that early ends cleanly instead (`abort` returns `false`). A class of its own:
 * the sink keeps `abort` as long as it lives, and a closure made in `serveWebRequest` would keep
 * that call's whole scope (the request, the runtime's hooks) alive with it.
 */
class CutOnceHandedOver {
  handedOver = false;
  readonly #cut: () => void;
  // A bound method rather than an arrow function: smaller than a closure with its scope.
  readonly abort: () => boolean = this.#abort.bind(this);

  constructor(cut: () => void) {
    this.#cut = cut;
  }

  #abort(): boolean {
    if (!this.handedOver) return false;
    this.#cut();
    return true;
  }
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
  const cut = runtime.abort === undefined ? undefined : new CutOnceHandedOver(runtime.abort);
  await serveEventStream<Args, E>({
    request: requestFacts({ method: request.method, url: request.url, headers: request.headers, clientAddress: runtime.clientAddress }),
    createSink: () => (sink = createWebStreamSink({ signal: runtime.clientSignal === null ? undefined : (runtime.clientSignal ?? request.signal), abort: cut?.abort })),
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
  if (cut !== undefined) cut.handedOver = true;
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
