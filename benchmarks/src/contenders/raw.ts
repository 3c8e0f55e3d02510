import { startHandWritten } from './hand-written.js';
import type { StartContender } from './types.js';

/**
 * The practical limit: plain `node:http`, the frame written by hand and encoded once per
 * broadcast, one `write` per client, no backpressure handling, no validation.
 */
export const start: StartContender = () =>
  startHandWritten((clients, event) => {
    const frame = Buffer.from(`id: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`);
    for (const res of clients) res.write(frame);
  });
