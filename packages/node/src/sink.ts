import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { SseError, SseHeadersSentError, type Rejection } from '@sse/core';
import { sinkDrained, sinkGone, type SinkListener, type SseSink } from '@sse/core/adapter';
import { endsOnFin, finSocket } from './client-fin.js';
import { directSocket, recordWritePath, writeChunk } from './socket-writer.js';

/** A Node request: `node:http` (what Express and Koa hand you) or the HTTP/2 compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A Node response: `node:http` (what Express and Koa hand you) or the HTTP/2 compatibility API. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** Hop-by-hop headers that HTTP/2 forbids; Node warns about them (compat API) or throws (raw API). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

type FlushableResponse = NodeResponse & { flush?: () => void; flushHeaders?: () => void };

/** Describes how far a response got, for `SseHeadersSentError`. */
function responseState(res: NodeResponse): string | undefined {
  if (res.writableEnded) return `the response was already ended with status ${res.statusCode}`;
  if (res.headersSent) return `headers were already sent with status ${res.statusCode}`;
  return undefined;
}

/**
 * The sink over a Node response, shared by `@sse/express`, `@sse/fastify`, `@sse/koa` and plain `node:http`.
 *
 * - status and headers are written once and flushed at once;
 * - `write()` reports `false` until the response's `drain`;
 * - `res.flush()` is called after each write when present, so compression middleware delivers
 *   every event immediately;
 * - on HTTP/1.1, when nothing wrapped `res.write` (compression middleware does), events are framed
 *   once per broadcast as chunks and written straight to the socket, as Node's response would
 *   write them, without its per-write bookkeeping (see `sinkWritePath`);
 * - the client is gone when the *response* closes (never the request: a POST stream's request
 *   ends as soon as its body is read);
 * - on HTTP/1.x Node decides `Connection` from the request (`Connection: close` and HTTP/1.0 get
 *   `close`, and the socket closes after `stream.close()`); a `Connection: keep-alive` given in the
 *   headers (the core's default) is not forced on them;
 * - on HTTP/1.x the client's FIN on a GET or HEAD stream counts as the client leaving (as
 *   `closeOnClientFin` does);
 * - on HTTP/2 no hop-by-hop header is sent;
 * - errors after a client reset end in the close path, never as an unhandled `error` event.
 */
export function createNodeSink(req: NodeRequest, res: NodeResponse): SseSink {
  return new NodeSink(req, res);
}

// A class rather than closures: one sink lives as long as its connection, and methods on the
// prototype instead of per-connection functions keep idle connections small.
class NodeSink implements SseSink {
  readonly httpVersion: string;
  // Created only when `signal` is read: the core listens through `listen` instead.
  #controller: AbortController | undefined;
  // The stream over this sink (see SseSink.listen), told of drains and of the client leaving.
  #listener: SinkListener | undefined;
  #isGone = false;
  readonly #req: NodeRequest;
  readonly #res: NodeResponse;
  // Given to onDrain by a caller that does not use `listen`.
  #drainCallback: (() => void) | undefined;
  // The 'drain' listener, made and added only once a write reports a full buffer: the socket
  // already has Node's own 'drain' listener, and a second one would give every idle connection a
  // listener array.
  #drainListener: (() => void) | undefined;
  // The socket whose FIN ends the stream (see closeOnClientFin), and its 'end' listener.
  #finSocket: Socket | undefined;
  #onFin: (() => void) | undefined;
  // Own flags instead of reading the response on every write: Express gives each response a hidden
  // class of its own, so every property read on it is a slow, megamorphic lookup.
  #writable = false;
  #flushes = false;
  // Set when the chunks go straight to the socket (see directSocket); its 'drain' is then the one to wait for.
  #socket: Socket | undefined;

  constructor(req: NodeRequest, res: NodeResponse) {
    this.#req = req;
    this.#res = res;
    this.httpVersion = req.httpVersion;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#isGone) this.#controller.abort(goneError());
    }
    return this.#controller.signal;
  }

  listen(listener: SinkListener | undefined): boolean {
    if (this.#isGone) return true;
    this.#listener = listener;
    return false;
  }

  /**
   * The sink listening on each response: one 'close' and 'error' listener serves every sink, so
   * that an idle connection keeps no closure (and its scope) of its own for them.
   */
  static readonly #sinks = new WeakMap<object, NodeSink>();

  /** `this` is the response that closed or errored. */
  static readonly #responseGone = function (this: object): void {
    const sink = NodeSink.#sinks.get(this);
    if (sink !== undefined) sink.#gone();
  };

  // Also on 'error': a write after a reset surfaces as an 'error' event; it means the client is gone.
  #gone(): void {
    if (!this.#isGone) {
      this.#isGone = true;
      this.#controller?.abort(goneError());
      const listener = this.#listener;
      this.#listener = undefined;
      listener?.[sinkGone]();
    }
    this.#cleanup();
  }

  #cleanup(): void {
    this.#writable = false;
    this.#res.removeListener('close', NodeSink.#responseGone);
    if (this.#drainListener !== undefined) (this.#socket ?? this.#res).removeListener('drain', this.#drainListener);
    this.#drainListener = undefined;
    this.#socket = undefined;
    this.#res.removeListener('error', NodeSink.#responseGone);
    NodeSink.#sinks.delete(this.#res);
    if (this.#onFin !== undefined) this.#finSocket?.removeListener('end', this.#onFin);
    this.#finSocket = undefined;
    this.#onFin = undefined;
  }

  open(status: number, headers: Record<string, string>): void {
    const res = this.#res;
    const state = responseState(res);
    if (state !== undefined) throw new SseHeadersSentError(state);
    NodeSink.#sinks.set(res, this);
    res.on('close', NodeSink.#responseGone);
    res.on('error', NodeSink.#responseGone);
    if (res.destroyed) {
      this.#gone();
      return;
    }
    const isHttp2 = this.#req.httpVersionMajor >= 2;
    if (!isHttp2) {
      // An event stream is long-lived and bursty: no socket timeout, no Nagle delay.
      (this.#req as IncomingMessage).socket?.setTimeout(0);
      (this.#req as IncomingMessage).socket?.setNoDelay(true);
      // Node sends `Connection: keep-alive` itself when the client allows it; forcing it would keep
      // open a socket the client asked to close (`Connection: close`, HTTP/1.0), and leave an
      // HTTP/1.0 body, which only the close delimits, without an end.
      if (headers.connection?.toLowerCase() === 'keep-alive') {
        const { connection: _forced, ...rest } = headers;
        headers = rest;
      }
    }
    if (!isHttp2 && res.getHeaderNames().length === 0) {
      // Nothing set earlier: hand the headers over in one go, so Node keeps no per-response header map.
      (res as ServerResponse).writeHead(status, headers);
    } else {
      // What earlier middleware set (CORS, security headers) stays; a length would end the stream.
      res.removeHeader('content-length');
      if (isHttp2) for (const name of HOP_BY_HOP) res.removeHeader(name);
      for (const [name, value] of Object.entries(headers)) {
        if (isHttp2 && HOP_BY_HOP.includes(name)) continue;
        res.setHeader(name, value);
      }
      res.statusCode = status;
    }
    const response = res as FlushableResponse;
    if (typeof response.flushHeaders === 'function') response.flushHeaders();
    else (res as ServerResponse).writeHead(status);
    // Compression middleware adds flush() before any handler runs.
    this.#flushes = typeof response.flush === 'function';
    this.#writable = !res.destroyed;
    this.#socket = isHttp2 || this.#flushes ? undefined : directSocket(res);
    recordWritePath(res, this.#socket === undefined ? 'response' : 'socket');
    const socket = isHttp2 ? undefined : finSocket(this.#req);
    // Node's server ends a socket on the client's FIN itself, which closes the response, unless
    // it keeps half-open connections: only then is a listener needed (the socket's 'end' already
    // holds two of Node's, and a third grows their array for every idle connection).
    if (socket !== undefined && this.#writable && !endsOnFin(socket)) {
      // A GET stream's client that half-closed has left; the same as closeOnClientFin, without a closure per stream.
      if (socket.readableEnded) this.#gone();
      else (this.#finSocket = socket).on('end', (this.#onFin = () => this.#gone()));
    }
  }

  write(chunk: Uint8Array): boolean {
    // A response ended or destroyed behind the sink's back reports it through 'error' or 'close'.
    if (!this.#writable) return false;
    let ok: boolean;
    try {
      ok = this.#socket !== undefined ? writeChunk(this.#socket, chunk) : (this.#res as ServerResponse).write(toBuffer(chunk));
    } catch {
      this.#gone();
      return false;
    }
    // 'drain' comes on a later tick, after the buffer that filled up now was written out.
    if (!ok && this.#drainListener === undefined && this.#writable) {
      this.#drainListener = () => {
        this.#drainCallback?.();
        this.#listener?.[sinkDrained]();
      };
      (this.#socket ?? this.#res).on('drain', this.#drainListener);
    }
    return ok;
  }

  onDrain(listener: () => void): void {
    this.#drainCallback = listener;
  }

  flush(): void {
    if (this.#flushes && this.#writable) (this.#res as FlushableResponse).flush!();
  }

  close(): Promise<void> | undefined {
    const res = this.#res;
    this.#cleanup();
    if (res.writableEnded || res.destroyed) return undefined;
    // Settles once the end was handed to the socket, or the connection closed first.
    return new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
      res.end();
    });
  }

  abort(): void {
    const res = this.#res;
    this.#cleanup();
    // After a finished response the socket may carry the next keep-alive request: leave it.
    if (!res.destroyed && !res.writableFinished) res.destroy();
  }
}

function goneError(): SseError {
  return new SseError('ERR_SSE_CLIENT_GONE', 'the client closed the connection');
}

let lastChunk: Uint8Array | undefined;
let lastBuffer: Buffer | undefined;

/**
 * `res.write` wraps every Uint8Array that is not a Buffer in a new Buffer before queueing it. A
 * broadcast hands the same chunk to every subscriber in turn, so wrap it once and reuse the view.
 */
function toBuffer(chunk: Uint8Array): Buffer {
  if (chunk === lastChunk) return lastBuffer!;
  if (Buffer.isBuffer(chunk)) return chunk;
  lastChunk = chunk;
  lastBuffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return lastBuffer;
}

/**
 * Writes a rejection (401, 429, 204…) as a plain response. Throws `SseHeadersSentError` when the
 * response was already started.
 */
export function writeRejection(res: NodeResponse, rejection: Rejection): void {
  const state = responseState(res);
  if (state !== undefined) throw new SseHeadersSentError(state, 'a rejection must be answered before anything writes to the response');
  for (const [name, value] of Object.entries(rejection.headers)) res.setHeader(name, value);
  res.statusCode = rejection.status;
  if (rejection.body === '') (res as ServerResponse).end();
  else (res as ServerResponse).end(rejection.body);
}

const CONNECTION_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * Whether an error only says the connection went away (reset, broken pipe, premature close):
 * for an event stream that is the client leaving, not a failure of the application.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && CONNECTION_ERRORS.has(code);
}
