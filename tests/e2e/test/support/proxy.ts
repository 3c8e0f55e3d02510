import { createServer, connect, type Socket } from 'node:net';

/** A TCP proxy in front of an app that can cut its connections, like a network that drops. */
export interface CuttableProxy {
  port: number;
  /** Cuts every open connection and refuses new ones (accepted, then closed at once). */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  /** Sends new connections to another port from now on, as a load balancer would when an instance goes away. */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startProxy(initialTargetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let blocked = false;
  let targetPort = initialTargetPort;
  const server = createServer((client) => {
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    port: address.port,
    cut() {
      blocked = true;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      blocked = false;
    },
    retarget(port) {
      targetPort = port;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
