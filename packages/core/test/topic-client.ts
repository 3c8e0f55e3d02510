// What a browser's EventSource keeps of a topic stream: the events it fires (eventsource-parser),
// routed by topic as an app would, and its last event id, which eventsource-parser does not
// report for a frame with only an id (the spec sets it on every dispatch, event fired or not).
import { parseChunks } from './parse.js';

/** The last event id an EventSource holds after these bytes (WHATWG "dispatch the event", step 1). */
export function lastEventIdOf(chunks: readonly Uint8Array[]): string | undefined {
  const text = new TextDecoder().decode(concat(chunks));
  let buffer: string | undefined;
  let last: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') last = buffer;
    else if (line.startsWith('id:')) {
      const value = line.slice(line.startsWith('id: ') ? 4 : 3);
      if (!value.includes('\0')) buffer = value;
    }
  }
  return last;
}

/** Each event as `topic/event/data`, gaps as `gap:<reason>:<topics>`. */
export function routedEvents(chunks: readonly Uint8Array[]): string[] {
  return parseChunks(chunks).events.map((event) => {
    if (event.event === 'sse-gap') {
      const gap = JSON.parse(event.data) as { reason: string; topics: string[] };
      return `gap:${gap.reason}:${gap.topics.join(',')}`;
    }
    const { topic, data } = JSON.parse(event.data) as { topic: string; data: unknown };
    return `${topic}/${event.event ?? 'message'}/${JSON.stringify(data)}`;
  });
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
