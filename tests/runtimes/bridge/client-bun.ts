// Bun: runs the probe against SSE_CLIENT_TARGET and prints its result as one JSON line.
import { probe } from './client-probe.js';

declare const Bun: { env: Record<string, string | undefined> };
console.log(`result ${JSON.stringify(await probe(Bun.env.SSE_CLIENT_TARGET!))}`);
