// scratch: heap per idle connection for a server variant (not committed)
import { createServer } from 'node:http';
import { connect } from 'node:net';
const variant = process.argv[2];
const N = 2000;
let handler: any;
if (variant === 'raw') {
  const set = new Set();
  handler = (req: any, res: any) => { res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' }); res.flushHeaders(); set.add(res); res.on('close', () => set.delete(res)); };
} else if (variant === 'node') {
  const { sse, createChannel } = await import('@sse/node');
  const ch = createChannel();
  handler = sse((s) => void ch.subscribe(s), { keepAlive: false });
} else if (variant === 'express') {
  const { default: express } = await import('express');
  const { sse, createChannel } = await import('@sse/express');
  const ch = createChannel();
  handler = express().get('/', sse((s) => void ch.subscribe(s), { keepAlive: false }));
} else if (variant === 'koa') {
  const { default: Koa } = await import('koa');
  const { sse, createChannel } = await import('@sse/koa');
  const ch = createChannel();
  handler = new Koa().use(sse((s) => void ch.subscribe(s), { keepAlive: false })).callback();
} else if (variant === 'hono') {
  const { Hono } = await import('hono');
  const { getRequestListener } = await import('@hono/node-server');
  const { sse, createChannel } = await import('@sse/hono');
  const ch = createChannel();
  handler = getRequestListener(new Hono().get('/', sse((s) => void ch.subscribe(s), { keepAlive: false })).fetch);
} else if (variant === 'fastify') {
  const { default: fastify } = await import('fastify');
  const { sse, createChannel } = await import('@sse/fastify');
  const ch = createChannel();
  let srv: any;
  const app = fastify({ serverFactory: (h) => (srv = createServer(h)) });
  app.get('/', sse((s) => void ch.subscribe(s), { keepAlive: false }));
  await app.ready();
  handler = (req: any, res: any) => srv.emit('request', req, res);
}
const server = createServer(handler);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as any).port;
const gc = () => { for (let i = 0; i < 4; i++) (globalThis as any).gc(); };
async function open(n: number) {
  const socks = [];
  let got = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++) {
      const s = connect(port, '127.0.0.1');
      s.write('GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
      let seen = false;
      s.on('data', () => { if (!seen) { seen = true; if (++got === n) resolve(); } });
      socks.push(s);
    }
  });
  return socks;
}
await open(200); // warm-up
await new Promise((r) => setTimeout(r, 200));
gc(); const before = process.memoryUsage();
await open(N);
await new Promise((r) => setTimeout(r, 500));
gc(); const after = process.memoryUsage();
console.log(variant, 'heap/conn', ((after.heapUsed - before.heapUsed) / N / 1024).toFixed(2), 'KB', 'rss/conn', ((after.rss - before.rss) / N / 1024).toFixed(2));
process.exit(0);
