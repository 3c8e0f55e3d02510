import type { AddressInfo, Server, Socket } from 'node:net';
import type { MountedServer } from './types.js';

/**
 * Starts a Node server (`node:http`, `node:https`, `node:http2`, or anything built on
 * `net.Server`) on 127.0.0.1 with a free port, and returns what a {@link Mount} returns:
 * the URL of `path`, a `close()` that also ends open connections (event streams never end on
 * their own), and the connection count.
 */
export async function listen(server: Server, path = '/'): Promise<MountedServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const pathname = path.startsWith('/') ? path : `/${path}`;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${pathname}`,
    connections: () =>
      new Promise<number>((resolve, reject) => {
        server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
      }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}
