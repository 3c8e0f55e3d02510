import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeRequest, NodeResponse } from './sink.js';

/**
 * How many event-stream requests may wait on one connection behind an unfinished response. One
 * more and the connection is destroyed: browsers never pipeline, and an event stream may never
 * finish, so a client that queues more than this is broken or hostile.
 */
const MAX_WAITING_REQUESTS = 4;

/** Requests waiting for their turn, per socket. */
const waiting = new WeakMap<object, number>();

/**
 * HTTP/1.1 pipelining: Node parses the requests a client sends behind an unfinished response and
 * hands them to the app at once, but gives each response its socket only when the one before it
 * finished (`res.socket` is `null` until then). Behind an event stream that can be never, and if
 * the connection dies such a response never emits `close`: serving it would hold a registry slot,
 * a handler and its subscriptions for good.
 *
 * Returns `true` when it is this response's turn now (the usual case: no pipelining, HTTP/2).
 * Otherwise returns a promise that resolves `true` once the response gets its socket, or `false`
 * when the connection closed first; then nothing must be served. The request holds nothing but
 * two listeners while it waits. Past {@link MAX_WAITING_REQUESTS} waiting on one connection, the
 * connection is destroyed (the stream that holds it included) and the promise resolves `false`.
 */
export function waitForTurn(req: NodeRequest, res: NodeResponse): true | Promise<boolean> {
  // The HTTP/2 compatibility API has a socket on every response; only HTTP/1.x queues. A response
  // that was started, ended or destroyed goes on, so the sink reports it as it always does.
  if (req.httpVersionMajor >= 2 || (res as ServerResponse).socket !== null || res.headersSent || res.writableEnded || res.destroyed) return true;
  const socket = (req as IncomingMessage).socket as IncomingMessage['socket'] | null;
  if (socket === null || socket.destroyed) return Promise.resolve(false);
  const count = (waiting.get(socket) ?? 0) + 1;
  if (count > MAX_WAITING_REQUESTS) {
    socket.destroy();
    return Promise.resolve(false);
  }
  waiting.set(socket, count);
  return new Promise<boolean>((resolve) => {
    const settle = (turn: boolean): void => {
      res.removeListener('socket', onSocket);
      socket.removeListener('close', onClose);
      const left = (waiting.get(socket) ?? 1) - 1;
      if (left === 0) waiting.delete(socket);
      else waiting.set(socket, left);
      resolve(turn);
    };
    // Node assigns the socket (and emits 'socket') once the response before this one finished.
    const onSocket = (): void => settle(true);
    // Listen on the socket, not the request: a queued GET's request may end (and close) long before its turn.
    const onClose = (): void => settle(false);
    res.once('socket', onSocket);
    socket.once('close', onClose);
  });
}
