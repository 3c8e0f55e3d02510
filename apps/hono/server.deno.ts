// The sample app on Hono, served on Deno by `Deno.serve` with its defaults: the routes of app.ts.
import { getConnInfo } from 'hono/deno';
import { createDemo } from '@sse-example/shared';
import { createApp } from './app.js';

/** The part of Deno's global this file uses (the app's types are Node's). */
declare const Deno: {
  serve(
    options: { port: number; onListen(address: { port: number }): void },
    handler: (request: Request, info: unknown) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
};

const demo = createDemo('Hono');
const app = createApp(demo, (c) => getConnInfo(c).remote.address ?? 'unknown');

const server = Deno.serve(
  { port: demo.config.port, onListen: ({ port }) => demo.listening({ address: () => ({ port }) }) },
  (request, info) => app.fetch(request, info),
);
// `shutdown()` stops listening and resolves once the open requests are answered (the drain has
// ended the streams by then). Deno has no call that cuts connections: past the deadline, the
// exit does.
demo.exitOnSignals({ close: (callback) => server.shutdown().then(() => callback?.(), callback) });
