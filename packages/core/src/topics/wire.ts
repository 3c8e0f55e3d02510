import { encodeFrame, formatEvent } from '../format.js';
import type { TopicEvent } from './types.js';

/**
 * How a topic event looks on the wire. The SSE `event` field is the app's event name (none for
 * `message`), the `data` is JSON `{"topic":"room:7","data":<the published data>}`, and the `id`
 * is the stream's position (see `position.ts`), which differs per stream and is therefore
 * written in front of the shared bytes, in the same chunk.
 */

/** The name of the in-band gap event: the same event as channels' (`GAP_EVENT`). */
export { GAP_EVENT as TOPIC_GAP_EVENT } from '../gap.js';

/** Bodies of events from other stores (Redis, the app's own), kept while their event is. */
const bodies = new WeakMap<TopicEvent, Uint8Array>();

/**
 * An event the memory store made. It carries its encoded body in a private field, so the body
 * costs no weak-map entry (which every major GC walks, for each event in every history) and
 * goes with the event. A copy (`{ ...event }`) has no body and is encoded again.
 */
export class StoredTopicEvent implements TopicEvent {
  readonly topic: string;
  readonly epoch: string;
  readonly offset: number;
  readonly order: number;
  readonly event: string | undefined;
  readonly data: string;
  #body: Uint8Array | undefined;

  constructor(topic: string, epoch: string, offset: number, order: number, event: string | undefined, data: string) {
    this.topic = topic;
    this.epoch = epoch;
    this.offset = offset;
    this.order = order;
    this.event = event;
    this.data = data;
  }

  static body(event: TopicEvent): Uint8Array | undefined {
    if (!(#body in event)) return undefined;
    return (event.#body ??= encodeBody(event));
  }
}

function encodeBody(event: TopicEvent): Uint8Array {
  const data = `{"topic":${JSON.stringify(event.topic)},"data":${event.data}}`;
  return encodeFrame(formatEvent(event.event === undefined ? { data } : { event: event.event, data }));
}

/** The bytes every subscriber of a topic gets for one event (all but the `id` line); encoded once per event. */
export function topicEventBody(event: TopicEvent): Uint8Array {
  const stored = StoredTopicEvent.body(event);
  if (stored !== undefined) return stored;
  let body = bodies.get(event);
  if (body === undefined) {
    body = encodeBody(event);
    bodies.set(event, body);
  }
  return body;
}

const ID_PREFIX = encodeFrame('id: ');

/**
 * `id: <entries joined by _>\n` followed by `body`, in one chunk (a stream's queue drops whole
 * chunks only). Entries are ASCII: one char is one byte, copied without building the joined string.
 */
export function withId(entries: readonly string[], body: Uint8Array): Uint8Array {
  let length = ID_PREFIX.byteLength + body.byteLength + entries.length; // the separators and the line feed
  for (const entry of entries) length += entry.length;
  const chunk = new Uint8Array(length);
  chunk.set(ID_PREFIX, 0);
  let at = ID_PREFIX.byteLength;
  for (let e = 0; e < entries.length; e++) {
    if (e > 0) chunk[at++] = 0x5f; // _
    const entry = entries[e]!;
    for (let i = 0; i < entry.length; i++) chunk[at++] = entry.charCodeAt(i);
  }
  chunk[at++] = 0x0a;
  chunk.set(body, at);
  return chunk;
}

/** A gap event for some topics of a stream, with the stream's position after the gap as its id. */
export function topicGapFrame(name: string, reason: string, topics: readonly string[], position: string): Uint8Array {
  return encodeFrame(formatEvent({ id: position, event: name, data: JSON.stringify({ reason, topics }) }));
}

/** A frame with only an id: it fires no event, but the client's last event id becomes `position`. */
export function idOnlyFrame(position: string): Uint8Array {
  return encodeFrame(formatEvent({ id: position }));
}
