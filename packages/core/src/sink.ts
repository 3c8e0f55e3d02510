/** Called on the listener given to `SseSink.listen` each time the transport can take more data. */
export const sinkDrained: unique symbol = Symbol.for('@sse/core.sink.drained');
/** Called on the listener given to `SseSink.listen` once, when the client has gone. */
export const sinkGone: unique symbol = Symbol.for('@sse/core.sink.gone');

/** What `SseSink.listen` is given: the stream over the sink, told of both through symbol-named methods. */
export interface SinkListener {
  [sinkDrained](): void;
  [sinkGone](): void;
}

/**
 * The contract between the core and a transport. An adapter implements it once for its
 * framework's response object; see `SINK.md` for the guide.
 */
export interface SseSink {
  /**
   * Fires (aborts) when the client has gone: the connection closed, the request was aborted,
   * or the response body was cancelled. The stream closes itself when it fires.
   */
  readonly signal: AbortSignal;

  /**
   * The HTTP version of the connection, e.g. `'1.1'` or `'2.0'`, when the transport knows it.
   * `Connection: keep-alive` is only sent on HTTP/1.x.
   */
  readonly httpVersion?: string | undefined;

  /**
   * Sends the status line and headers. Called exactly once, before any `write`. Should put
   * the headers on the wire at once so that the client's `open` fires before the first event.
   * Throw `SseHeadersSentError` when the response was already started by someone else.
   */
  open(status: number, headers: Record<string, string>): void;

  /**
   * Writes one chunk: one or more whole events, never a partial one. Returns `false` when the
   * transport's buffer is full; the core then queues further events (up to its byte bound)
   * until the listener given to `onDrain` is called.
   */
  write(chunk: Uint8Array): boolean;

  /** Registers the one listener to call each time the transport can take more data. */
  onDrain(listener: () => void): void;

  /**
   * Optional, used instead of `onDrain` and `signal`: registers the stream itself as the one
   * listener (`undefined` removes it); call its `[sinkDrained]()` each time the transport can take
   * more, and its `[sinkGone]()` once when the client has gone. Returns `true`, keeping nothing,
   * when the client is gone already. A stream then keeps no closures for its sink, and the sink
   * can create `signal` only when someone reads it (in Node an `AbortSignal` costs about 0.9 KB,
   * and the two listeners some 150 bytes, for every idle connection).
   */
  listen?(listener: SinkListener | undefined): boolean;

  /** Optional: pushes buffered bytes through intermediaries (e.g. compression middleware). */
  flush?(): void;

  /**
   * Ends the response cleanly after what was written has been delivered. May return a promise
   * that settles once the end was handed to the transport, so shutdown can wait for it (and
   * abort what does not finish in time).
   */
  close(): void | Promise<void>;

  /** Tears the connection down now, discarding what is still buffered (slow or failed clients). */
  abort(): void;
}
