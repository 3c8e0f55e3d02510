/**
 * What a store tells its listeners when live delivery skipped events that it can no longer
 * deliver: `listen(listener, onGap)`. The channel turns it into an in-band event so that clients
 * refetch their state instead of silently missing events.
 *
 * - `trimmed`: this instance's reader fell behind by more than the stream keeps (`maxLen`,
 *   `maxAgeMs`): the entries between `after` and `resumeFrom` were trimmed before it read them.
 * - `reset`: the stream went away or went backwards (the key was deleted or recreated, Redis
 *   restarted without its data, a stream with lower ids replaced it): its history is gone and
 *   the reader starts again from the new stream's first entry.
 */
export interface StoreGap {
  reason: 'trimmed' | 'reset';
  /** Last event id this instance delivered before the gap, if any. */
  after?: string | undefined;
  /** First event id delivered after the gap, if known. */
  resumeFrom?: string | undefined;
}

/** Told once per gap, before any event that follows it. */
export type GapListener = (gap: StoreGap) => void;
