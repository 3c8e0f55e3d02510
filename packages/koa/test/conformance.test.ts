import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { listen, runConformance } from '@sse/conformance';
import { sse } from '../src/index.js';

for (const [name, Koa] of [['koa 3', Koa3], ['koa 2', Koa2]] as const) {
  const app = (...args: Parameters<typeof sse>) => {
    const callback = new Koa().use(sse(...args)).callback();
    type Listener = Parameters<typeof callback>;
    // Not awaited: node:http ignores a listener's result, and Koa's callback reports its own errors (app.on('error')).
    return (req: Listener[0], res: Listener[1]) => void callback(req, res);
  };
  runConformance({
    name,
    mount: (handler, options) => listen(createServer(app(handler, options))),
    http2: (handler, options) => listen(createHttp2Server(app(handler, options))),
  });
}
