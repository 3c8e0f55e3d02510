// Loaded (`node --import`) before a README example that starts a server: whatever port the
// example asks for (3000, `process.env.PORT`), its server listens on a free port of 127.0.0.1,
// and the test learns which one over the IPC channel. The example's own code runs as written.
import { Server } from 'node:net';

const listen = Server.prototype.listen;

Server.prototype.listen = function listenOnFreePort(this: Server, ...args: unknown[]): Server {
  const callback = args.find((arg): arg is () => void => typeof arg === 'function');
  this.once('listening', () => {
    const address = this.address();
    process.send?.({ listening: typeof address === 'object' && address !== null ? address.port : address });
  });
  return listen.call(this, { port: 0, host: '127.0.0.1' }, callback);
} as typeof listen;
