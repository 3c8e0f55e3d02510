export { runConformance, CONFORMANCE_CASES } from './suite.js';
export { listen } from './listen.js';
export {
  WAIT_MS,
  connectRawSocket,
  rawExchange,
  expectEventsOneByOne,
  openEventStream,
  readEventStream,
  requestEventStream,
  requestHttp2EventStream,
  EventSourceClient,
  Http2EventStreamClient,
  RawSocketClient,
  type EventSourceKind,
  type EventStreamClient,
  type EventStreamRequestInit,
  type RawSocketOptions,
  type RawExchange,
  type ReceivedEvents,
  type ReceivedMessage,
  type ResponseEventStreamClient,
  type StreamOutcome,
} from './clients.js';
export type {
  ConformanceCase,
  ConformanceHandler,
  ConformanceOptions,
  ConformanceTarget,
  Mount,
  MountedServer,
} from './types.js';
