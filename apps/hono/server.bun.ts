// The sample app on Hono, served on Bun by `Bun.serve` with its defaults: the routes of app.ts.
import { getConnInfo } from 'hono/bun';
import { createDemo } from '@sse-example/shared';
import { createApp } from './app.js';

/** The part of Bun's global this file uses (the app's types are Node's). */
declare const Bun: {
  serve(options: { port: number; fetch: (request: Request, server: unknown) => Response | Promise<Response> }): BunServer;
};
interface BunServer {
  readonly port: number;
  /** Stops listening; with `true` also cuts the open connections. Resolves once they are closed. */
  stop(closeActiveConnections?: boolean): Promise<void>;
}

const demo = createDemo('Hono');
const app = createApp(demo, (c) => getConnInfo(c).remote.address ?? 'unknown');

const server = Bun.serve({ port: demo.config.port, fetch: (request, bunServer) => app.fetch(request, bunServer) });
demo.listening({ address: () => ({ port: server.port }) });
demo.exitOnSignals({
  close: (callback) => server.stop().then(() => callback?.(), callback),
  closeAllConnections: () => void server.stop(true),
});
