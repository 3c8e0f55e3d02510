import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SinkBypass, WebStreamSink } from '@sse/core/adapter';
import { directSocket, outgoingPrototype, recordWritePath, writeChunk, type NodeResponse } from '@sse/node/adapter';

/** Writes of the body watched for the one that carries the sink's last chunk, before giving up. */
const WATCHED_WRITES = 8;

/**
 * On `@hono/node-server`, moves the stream's writes from its body to Node's socket once that is
 * safe. The server writes the head, then reads the body and writes each chunk to `outgoing`. The
 * first few of those writes are watched (`outgoing.write`, for those calls only). The first must be
 * the body's first chunk itself, or a middleware changed the body. Once the chunk
 * the sink last enqueued reaches `outgoing.write` itself and the body holds nothing more, every
 * byte the body produced is in Node's hands, so further chunks can go to the socket directly, as
 * `@sse/node` writes them, and the sink takes the response's end over (see `handOver`). When a
 * middleware changed the body (compression writes other bytes), changed the encoding, or the
 * response is not HTTP/1.1 chunked, nothing moves: the stream stays on the body.
 */
export function writeToNodeSocket(sink: WebStreamSink, outgoing: NodeResponse): void {
  const response = outgoing as ServerResponse;
  const original = outgoingPrototype(outgoing)?.write;
  if (outgoing.req.httpVersionMajor !== 1 || typeof original !== 'function' || response.write !== original) {
    recordWritePath(outgoing, 'response');
    return;
  }
  // What the body held when the server got it: the bytes at open. A body passed through unchanged
  // hands exactly this chunk to the first write; anything else means a middleware changed it.
  const first = sink.lastChunk;
  let watched = 0;
  const stop = (): void => {
    // The original goes back as the own property instead of deleting it: a delete would switch the
    // response to a dictionary of properties, some 3 KB more for every open stream in V8.
    if (response.write === write) response.write = original as ServerResponse['write'];
    response.removeListener('close', stop);
  };
  const write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>): boolean {
    const ok = (original as ServerResponse['write']).apply(this, args);
    watched++;
    if (watched === 1 && (first === undefined || args[0] !== first)) {
      stop();
      recordWritePath(outgoing, 'response');
    } else if (args[0] === sink.lastChunk) {
      stop();
      const socket = isUnchanged(response) ? directSocket(outgoing) : undefined;
      if (socket !== undefined && handOver(sink, response, socket)) recordWritePath(outgoing, 'socket');
      else recordWritePath(outgoing, 'response');
    } else if (watched >= WATCHED_WRITES) {
      stop();
      recordWritePath(outgoing, 'response');
    }
    return ok;
  };
  Object.defineProperty(response, 'write', { configurable: true, writable: true, enumerable: false, value: write });
  response.on('close', stop);
}

/**
 * The head the server wrote is still an event stream, with no encoding a middleware added. Read
 * from the head itself: headers given to `writeHead` as an object are not kept for `getHeader`.
 */
function isUnchanged(response: ServerResponse): boolean {
  const head = (response as ServerResponse & { _header?: unknown })._header;
  return typeof head === 'string' && /\r\ncontent-type: *text\/event-stream/i.test(head) && !/\r\ncontent-encoding:/i.test(head);
}

/**
 * Moves the sink's writes to `socket` and the end of the response to the sink: the sink ends its
 * body at once, so that the server's read of the body finishes and frees what it holds for it
 * (its promises and closures, the body and its reader: some 6 KB per open stream), and the sink ends
 * the response itself when it closes. The server ends the response when the body ends: that one
 * call is swallowed (`end` as an own property of the response until then; `directSocket` has
 * checked that nothing else replaced it).
 */
function handOver(sink: WebStreamSink, response: ServerResponse, socket: Socket): boolean {
  const end = outgoingPrototype(response)?.end as ServerResponse['end'] | undefined;
  if (typeof end !== 'function') return false;
  const swallow = function (this: ServerResponse): ServerResponse {
    // Put back as the own property instead of deleted, as `write` is (see writeToNodeSocket).
    if (response.end === swallow) response.end = end;
    return this;
  } as ServerResponse['end'];
  Object.defineProperty(response, 'end', { configurable: true, writable: true, enumerable: false, value: swallow });
  if (sink.bypass(new SocketBypass(socket, response, end))) return true;
  response.end = end;
  return false;
}

// A class rather than closures: one lives as long as its stream.
class SocketBypass implements SinkBypass {
  readonly #socket: Socket;
  readonly #response: ServerResponse;
  readonly #end: ServerResponse['end'];
  #drain: (() => void) | undefined;

  constructor(socket: Socket, response: ServerResponse, end: ServerResponse['end']) {
    this.#socket = socket;
    this.#response = response;
    this.#end = end;
  }

  end(): void {
    // The prototype's own end: the response's own property swallows the server's call.
    if (!this.#response.writableEnded) (this.#end as (this: ServerResponse) => unknown).call(this.#response);
  }

  onGone(listener: () => void): void {
    const response = this.#response;
    if (response.closed) queueMicrotask(listener);
    else response.once('close', listener);
  }

  write(chunk: Uint8Array): boolean {
    return this.#socket.destroyed ? false : writeChunk(this.#socket, chunk);
  }

  onDrain(listener: () => void): void {
    if (this.#drain !== undefined) this.#socket.removeListener('drain', this.#drain);
    this.#socket.on('drain', (this.#drain = listener));
  }

  release(): void {
    if (this.#drain !== undefined) this.#socket.removeListener('drain', this.#drain);
    this.#drain = undefined;
  }
}
