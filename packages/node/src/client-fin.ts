import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { NodeRequest, NodeResponse } from './sink.js';

/**
 * Treats the client's FIN (the end of the request side of its connection) as the client leaving,
 * for a `GET` or `HEAD` event stream on HTTP/1.x: `res` is destroyed, so it emits `close` and the
 * stream closes with reason `'client'` without waiting for a write to fail.
 *
 * Node's server already ends the socket on a FIN unless `server.httpAllowHalfOpen` is set; with it
 * set (or through anything that keeps half-open connections), a half-closed client would only be
 * noticed at the next write, up to the keep-alive interval. On a server that ends the socket
 * itself, this adds nothing (no listener per connection): the response closes with the socket. A
 * request without a body sends nothing
 * after its head, so its FIN can only mean the client is done. Other methods are left alone: the
 * end of a POST stream's body is `req`'s `end`, not the connection's, and a client may
 * half-close after its body and still read.
 */
export function closeOnClientFin(req: NodeRequest, res: NodeResponse): void {
  const socket = finSocket(req);
  // A server that ends the socket on the FIN itself closes the response: no listener needed.
  if (socket === undefined || res.destroyed || res.writableFinished || endsOnFin(socket)) return;
  if (socket.readableEnded) {
    res.destroy();
    return;
  }
  const onFin = (): void => {
    if (!res.writableFinished) res.destroy();
  };
  socket.once('end', onFin);
  // A response always emits 'close' (after it finished, or when the connection died); the socket
  // may then carry the next keep-alive request, whose FIN is none of this response's business.
  res.once('close', () => socket.removeListener('end', onFin));
}

/** Internal: the socket whose FIN means the client left (a `GET` or `HEAD` on HTTP/1.x), if any. */
export function finSocket(req: NodeRequest): Socket | undefined {
  if (req.httpVersionMajor !== 1 || (req.method !== 'GET' && req.method !== 'HEAD')) return undefined;
  return (req as IncomingMessage).socket ?? undefined;
}

/**
 * Internal: whether the socket's server ends it on the client's FIN itself, which closes the
 * response (a `node:http` or `node:https` server without `httpAllowHalfOpen`).
 */
export function endsOnFin(socket: Socket): boolean {
  // Not in @types/node 20, but set by every node:http and node:https server and read on each FIN.
  const server = (socket as Socket & { server?: { httpAllowHalfOpen?: unknown } | null }).server;
  return server?.httpAllowHalfOpen === false;
}
