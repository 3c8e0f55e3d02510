import { createServer, type ServerResponse } from 'node:http';
import { listen } from './listen.js';
import type { BenchEvent, BenchServer } from './types.js';

/**
 * The server of the hand-written references (raw, floor, floor-uncorked): the event-stream head
 * flushed, every open response kept until it closes, `closeAll` ending each. Only how a broadcast
 * reaches the responses differs between them.
 */
export async function startHandWritten(broadcast: (clients: ReadonlySet<ServerResponse>, event: BenchEvent) => void): Promise<BenchServer> {
  const clients = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  return {
    servers: [await listen(server)],
    broadcast: (event) => broadcast(clients, event),
    async closeAll() {
      // With chunked responses the response writes the last chunk (`0\r\n\r\n`): the chunks written were whole.
      for (const res of clients) res.end();
    },
  };
}

/** One broadcast's frame as one whole HTTP/1.1 chunk: `<hex length>\r\n`, the frame, `\r\n`. */
export function chunkOf(event: BenchEvent): Buffer {
  const frame = `id: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`;
  return Buffer.from(`${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`);
}
