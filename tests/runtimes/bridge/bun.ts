// Bun's entry: Bun.serve with its defaults (idleTimeout included), as a user would start it.
import { createBridge } from './app.js';

declare const Bun: { env: Record<string, string | undefined>; serve(options: object): { port: number } };
const base = Bun.env.SSE_BRIDGE_CTRL!;
const fetchHandler = createBridge((path, body) => fetch(base + path, { method: 'POST', body: JSON.stringify(body) }));
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: fetchHandler });
console.log(`listening ${server.port}`);
