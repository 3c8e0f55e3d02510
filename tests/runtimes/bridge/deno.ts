// Deno's entry: Deno.serve with its defaults.
import { createBridge } from './app.js';

declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, handler: (request: Request, info: unknown) => Promise<Response>): unknown;
};
const base = Deno.env.get('SSE_BRIDGE_CTRL')!;
const fetchHandler = createBridge((path, body) => fetch(base + path, { method: 'POST', body: JSON.stringify(body) }));
Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, (request, info) => fetchHandler(request, info));
