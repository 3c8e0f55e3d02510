import { SseError } from './errors.js';
import { checkEventName, encodeFrame, formatEvent } from './format.js';

/**
 * The name of the in-band gap event: a stream gets it when it missed events that cannot be sent
 * to it any more, before any event that follows the gap. The client should refetch its state.
 */
export const GAP_EVENT = 'sse-gap';

/**
 * Why a client missed events:
 * - `unknown-id`: its `Last-Event-ID` is not in the history (never issued, from another store,
 *   or trimmed away);
 * - `replay-failed`: the history could not be read (the store failed);
 * - `trimmed`: this server's reader fell behind the shared history, which dropped events first;
 * - `reset`: the store lost its data or was replaced (key deleted, restart without persistence);
 * - `dropped`: the client read too slowly and its oldest queued events were dropped
 *   (`slowClient: 'drop-oldest'`);
 * - `too-large`: an event was larger than `maxEventBytes` (of the channel, or of this stream) and
 *   was not sent; `lastEventId` is then the id of the event that was left out.
 */
export type GapReason = 'unknown-id' | 'replay-failed' | 'trimmed' | 'reset' | 'dropped' | 'too-large';

/** The data of a gap event (JSON). */
export interface GapInfo {
  reason: GapReason;
  /**
   * The last event id before the gap, when the server knows it: the client's `Last-Event-ID`
   * (`unknown-id`, `replay-failed`), or the last id this server delivered (`trimmed`, `reset`);
   * for `too-large`, the id of the event that was left out.
   */
  lastEventId?: string | undefined;
}

/**
 * The gap event as `stream.send()` takes it, for apps that detect a gap themselves. It has no
 * `id`, so the client's last event id does not move.
 */
export function gapEvent(info: GapInfo): { event: typeof GAP_EVENT; data: GapInfo } {
  return { event: GAP_EVENT, data: gapData(info) };
}

/**
 * Reads a gap event's `data` (a `MessageEvent`'s `data`): the `GapInfo`, or `undefined` when it
 * is not one. Reasons this version does not know are kept as they are (servers may add some).
 */
export function parseGap(data: string): GapInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || typeof (value as GapInfo).reason !== 'string') return undefined;
  const { reason, lastEventId } = value as GapInfo;
  return typeof lastEventId === 'string' ? { reason, lastEventId } : { reason };
}

function gapData(info: GapInfo): GapInfo {
  return info.lastEventId === undefined ? { reason: info.reason } : { reason: info.reason, lastEventId: info.lastEventId };
}

/** The gap event's name as a `gapEvent` option gives it: a name, or `false` for none. */
export function checkGapEventName(name: string | false | undefined): string | false {
  if (name === undefined) return GAP_EVENT;
  if (name === false) return false;
  if (name === '' || name === 'message') {
    throw new SseError('ERR_SSE_OPTION', `gapEvent must be an event name other than '' and 'message' (a gap must not reach the client's onmessage as data), or false to send none, got '${name}'`);
  }
  return checkEventName(name);
}

/** A gap event, encoded (no `id` line). */
export function encodeGapFrame(name: string, info: GapInfo): Uint8Array {
  return encodeFrame(formatEvent({ event: name, data: JSON.stringify(gapData(info)) }));
}
