import { createServer } from 'node:http';
import express, { type Response } from 'express';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';

/**
 * The handler most Express SSE tutorials show (the DigitalOcean one, for instance): headers by
 * hand, a list of responses, and a template string per client when sending.
 */
export const start: StartContender = async () => {
  const clients = new Set<Response>();
  const app = express();
  app.get(EVENTS_PATH, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    clients.add(res);
    req.on('close', () => clients.delete(res));
  });
  return {
    servers: [await listen(createServer(app))],
    broadcast(event) {
      for (const res of clients) res.write(`id: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`);
    },
  };
};
