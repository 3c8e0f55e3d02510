// Deno: runs the probe against SSE_CLIENT_TARGET and prints its result as one JSON line.
import { probe } from './client-probe.js';

declare const Deno: { env: { get(name: string): string | undefined } };
console.log(`result ${JSON.stringify(await probe(Deno.env.get('SSE_CLIENT_TARGET')!))}`);
