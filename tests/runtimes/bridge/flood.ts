// The backpressure cases produced in the runtime itself (the bridge's producer is in the test
// process and cannot be held back by the runtime): GET /flood?policy=disconnect|drop-oldest sends
// 16 KiB events, 16 per turn of the event loop, to a client that does not read; GET /stats says
// how much was sent, the largest queue seen, the slow-client reports and the close.
import { createFetchHandler, type SlowClientInfo, type SlowClientPolicy } from '@sse/core';

const PAYLOAD = 'p'.repeat(16 * 1024);
const TOTAL: Record<SlowClientPolicy, number> = { disconnect: 48 << 20, 'drop-oldest': 24 << 20 };

interface FloodState {
  sentBytes: number;
  sentEvents: number;
  maxBuffered: number;
  slow: SlowClientInfo[];
  openBeforeEnd: boolean;
  closed: string;
  done: boolean;
}

let state: FloodState | undefined;

function flood(policy: SlowClientPolicy): (request: Request, server?: unknown) => Promise<Response> {
  return createFetchHandler(
    async (stream) => {
      const s: FloodState = { sentBytes: 0, sentEvents: 0, maxBuffered: 0, slow: [], openBeforeEnd: false, closed: '', done: false };
      state = s;
      void stream.closed.then((info) => (s.closed = info.reason));
      while (!stream.isClosed && s.sentBytes < TOTAL[policy]) {
        for (let i = 0; i < 16 && !stream.isClosed && s.sentBytes < TOTAL[policy]; i++) {
          stream.send({ id: String(s.sentEvents++), data: PAYLOAD });
          s.sentBytes += PAYLOAD.length;
          s.maxBuffered = Math.max(s.maxBuffered, stream.bufferedBytes);
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      if (policy === 'drop-oldest') {
        s.openBeforeEnd = !stream.isClosed;
        stream.send({ event: 'end', id: 'end', data: 'end' });
        stream.close();
      }
      s.done = true;
    },
    { keepAlive: false, maxBufferedBytes: 1 << 20, slowClient: policy, onSlowClient: (info) => state?.slow.push(info) },
  );
}

const handlers = { disconnect: flood('disconnect'), 'drop-oldest': flood('drop-oldest') };

export function floodServer(request: Request, server?: unknown): Response | Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === '/stats') return Response.json(state ?? null);
  if (url.pathname === '/runtime') return new Response(typeof navigator === 'undefined' ? 'unknown' : navigator.userAgent);
  const policy = url.searchParams.get('policy') === 'drop-oldest' ? 'drop-oldest' : 'disconnect';
  return handlers[policy](request, server);
}
