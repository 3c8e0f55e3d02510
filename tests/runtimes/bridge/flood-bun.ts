import { floodServer } from './flood.js';

declare const Bun: { serve(options: object): { port: number } };
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: floodServer });
console.log(`listening ${server.port}`);
