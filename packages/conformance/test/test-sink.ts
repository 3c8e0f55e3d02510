import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { checkServeOptions, requestFacts, serveEventStream, type SseSink } from '@sse/core/adapter';
import { listen, type ConformanceHandler, type ConformanceOptions, type ConformanceTarget } from '../src/index.js';

/** Ways a sink can be wrong that real adapters have shipped with. */
export type Flaw = 'none' | 'splits-events' | 'ignores-backpressure' | 'sends-connection-on-http2' | 'skips-option-check';

/**
 * A minimal sink over a Node response, correct unless told to carry a flaw: the suite's
 * reference adapter, and the sink the CONTRIBUTING guide describes.
 */
function createTestSink(req: IncomingMessage, res: ServerResponse, flaw: Flaw): SseSink {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  return {
    signal: controller.signal,
    // The flaw: claiming HTTP/1.1 makes the core add `Connection: keep-alive` on HTTP/2.
    httpVersion: flaw === 'sends-connection-on-http2' ? '1.1' : req.httpVersion,
    open(status, headers) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.statusCode = status;
      res.flushHeaders();
    },
    write(chunk) {
      if (res.destroyed) return false;
      if (flaw === 'splits-events') {
        const middle = Math.floor(chunk.byteLength / 2);
        res.write(chunk.subarray(0, middle));
        return res.write(chunk.subarray(middle));
      }
      const accepted = res.write(chunk);
      return flaw === 'ignores-backpressure' ? true : accepted;
    },
    onDrain(listener) {
      res.on('drain', listener);
    },
    close() {
      res.end();
    },
    abort() {
      res.destroy();
    },
  };
}

function adapter(flaw: Flaw): (handler: ConformanceHandler, options: ConformanceOptions) => (req: IncomingMessage, res: ServerResponse) => void {
  return (handler, options) => {
    // Checked once, when the route is created (a `topics` option without `authorize` throws here).
    if (flaw !== 'skips-option-check') checkServeOptions(options);
    return (req, res) => {
      // Not awaited: node:http ignores a listener's result. What fails before a stream opened
      // (authorize threw, or returned a rejection that cannot be answered) is answered with a 500.
      serveEventStream({
        request: requestFacts({ method: req.method, url: req.url, headers: req.headers }),
        createSink: () => createTestSink(req, res, flaw),
        respond: (rejection) => {
          res.writeHead(rejection.status, rejection.headers).end(rejection.body);
        },
        args: [],
        handler,
        options,
      }).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
  };
}

export function target(flaw: Flaw): ConformanceTarget {
  const serve = adapter(flaw);
  return {
    name: `test sink (${flaw})`,
    mount: (handler, options) => listen(createServer(serve(handler, options))),
    http2: (handler, options) => listen(createHttp2Server(serve(handler, options) as never)),
  };
}

