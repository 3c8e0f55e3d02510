import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NodeResponse } from './sink.js';

/**
 * How a stream's events reach the connection:
 * - `'socket'`: framed once per broadcast as an HTTP/1.1 chunk and written straight to the socket;
 * - `'response'`: through `res.write` (HTTP/2, HTTP/1.0, compression or any middleware that
 *   wrapped `res.write`, a response Node still buffers).
 */
export type SinkWritePath = 'socket' | 'response';

/**
 * The parts of Node's `ServerResponse` the fast path checks. They are not in Node's types, so
 * each is read defensively: on a runtime whose response lacks one (Bun's `node:http`, a future
 * Node), the check fails and the stream stays on `res.write`.
 */
interface ResponseInternals {
  chunkedEncoding?: unknown;
  _hasBody?: unknown;
  _headerSent?: unknown;
  outputData?: unknown;
  flush?: unknown;
}

interface SocketInternals {
  _httpMessage?: unknown;
}

const paths = new WeakMap<object, SinkWritePath>();

interface OutgoingPrototype {
  write: unknown;
  end: unknown;
}

/**
 * Node's `OutgoingMessage.prototype`, found on the response's prototype chain (the one that owns
 * `_writeRaw`) rather than imported: `@sse/hono` loads this module on Workers and Deno too, where
 * importing `node:http` fails or means something else.
 */
export function outgoingPrototype(res: object): OutgoingPrototype | undefined {
  for (let prototype = Object.getPrototypeOf(res) as object | null; prototype !== null; prototype = Object.getPrototypeOf(prototype) as object | null) {
    if (Object.hasOwn(prototype, '_writeRaw') && Object.hasOwn(prototype, 'write') && Object.hasOwn(prototype, 'end')) return prototype as OutgoingPrototype;
  }
  return undefined;
}

/**
 * Which way the events of the stream on `res` go (see {@link SinkWritePath}), or `undefined`
 * before it opened. For diagnostics and benchmarks: both paths put the same bytes on the wire.
 */
export function sinkWritePath(res: NodeResponse): SinkWritePath | undefined {
  return paths.get(res);
}

/** Internal: records the path a sink took for `res`. */
export function recordWritePath(res: NodeResponse, path: SinkWritePath): void {
  paths.set(res, path);
}

/**
 * The socket a stream can write its chunks to directly, when Node's own write path would do
 * nothing but frame them: an HTTP/1.1 response with chunked encoding and a body, whose head is on
 * the wire, that owns its socket with nothing queued in front, and whose `write` nobody wrapped
 * (compression middleware does, and must see every byte). Anything else gets `undefined`, and the
 * stream writes through `res.write`.
 */
export function directSocket(res: NodeResponse): Socket | undefined {
  const response = res as ServerResponse & ResponseInternals;
  const outgoing = outgoingPrototype(res);
  if (outgoing === undefined || response.write !== outgoing.write || response.end !== outgoing.end) return undefined;
  if (response.flush !== undefined) return undefined;
  if (response.chunkedEncoding !== true || response._hasBody !== true || response._headerSent !== true) return undefined;
  if (!Array.isArray(response.outputData) || response.outputData.length !== 0) return undefined;
  if (response.writableEnded || response.destroyed) return undefined;
  const socket = response.socket as (Socket & SocketInternals) | null;
  if (socket === null || socket._httpMessage !== response || !socket.writable || socket.destroyed) return undefined;
  return socket;
}

let lastChunk: Uint8Array | undefined;
let lastFrame: Buffer | undefined;

/**
 * The chunk as one HTTP/1.1 chunk: its length in hex, CRLF, the bytes, CRLF. A broadcast hands the
 * same chunk to every subscriber in turn, so it is framed once and the Buffer reused.
 */
function frame(chunk: Uint8Array): Buffer {
  if (chunk === lastChunk) return lastFrame!;
  const size = chunk.byteLength.toString(16);
  const framed = Buffer.allocUnsafe(size.length + chunk.byteLength + 4);
  let at = framed.write(size, 0, 'latin1');
  framed[at++] = 0x0d;
  framed[at++] = 0x0a;
  framed.set(chunk, at);
  at += chunk.byteLength;
  framed[at++] = 0x0d;
  framed[at] = 0x0a;
  lastChunk = chunk;
  lastFrame = framed;
  return framed;
}

function uncork(socket: Socket): void {
  socket.uncork();
}

// Which tick a socket was last written in, to cork only a socket written more than once in a tick.
const kLastTick = Symbol('@sse/node last write tick');
let currentTick = 1;
let tickEnds = false;

function endTick(): void {
  currentTick++;
  tickEnds = false;
}

/**
 * Writes a chunk to the socket as Node's response would write it: framed as one HTTP/1.1 chunk.
 * The first write of a tick to a socket goes out at once; a second one in the same tick corks the
 * socket until the tick ends, so a burst leaves in one `writev` (a broadcast writes each socket
 * once: corking every write would only add a deferred uncork per socket). An empty chunk is not
 * written (framed, it would end the body). Returns `false` when the socket's buffer is full.
 */
export function writeChunk(socket: Socket, chunk: Uint8Array): boolean {
  if (chunk.byteLength === 0) return socket.writableLength < socket.writableHighWaterMark;
  if (!tickEnds) {
    tickEnds = true;
    process.nextTick(endTick);
  }
  const marked = socket as Socket & { [kLastTick]?: number };
  if (marked[kLastTick] === currentTick) {
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(uncork, socket);
    }
  } else {
    marked[kLastTick] = currentTick;
  }
  return socket.write(frame(chunk));
}
