export { runConformance, CONFORMANCE_CASES } from './suite.js';
export { listen } from './listen.js';
export { expectEventsOneByOne, requestEventStream, type EventStreamClient, type EventStreamRequestInit, type ReceivedEvents } from './clients.js';
export type {
  ConformanceCase,
  ConformanceHandler,
  ConformanceOptions,
  ConformanceTarget,
  Mount,
  MountedServer,
} from './types.js';
