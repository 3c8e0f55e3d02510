// The sample app on Hono, served on Node by @hono/node-server: the routes are in app.ts, the
// same on Bun (server.bun.ts) and Deno (server.deno.ts).
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createDemo } from '@sse-example/shared';
import { createApp } from './app.js';

const demo = createDemo('Hono');
const app = createApp(demo, (c) => getConnInfo(c).remote.address ?? 'unknown');

const server = serve({ fetch: app.fetch, port: demo.config.port }, () => demo.listening(server));
demo.exitOnSignals(server);
