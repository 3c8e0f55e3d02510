// The published surface of @sse/conformance, pinned: a name added to or removed from it fails
// here, so every change is deliberate (and gets a README line and a changeset).
import { expect, it } from 'vitest';

it('@sse/conformance: the suite, its case names, listen() and the one SSE test client', async () => {
  expect(Object.keys(await import('@sse/conformance')).sort()).toEqual([
    'CONFORMANCE_CASES',
    'EventSourceClient',
    'Http2EventStreamClient',
    'RawSocketClient',
    'WAIT_MS',
    'connectRawSocket',
    'expectEventsOneByOne',
    'listen',
    'openEventStream',
    'rawExchange',
    'readEventStream',
    'requestEventStream',
    'requestHttp2EventStream',
    'runConformance',
  ]);
});
