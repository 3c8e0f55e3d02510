// The published surface of @sse/client, pinned: a name added or removed fails here, so every
// change to it is deliberate (and gets a README line and a changeset).
import { describe, expect, it } from 'vitest';

describe('@sse/client entry points', () => {
  it('@sse/client: createClient, its error and its defaults', async () => {
    expect(Object.keys(await import('@sse/client')).sort()).toEqual([
      'DEFAULT_INITIAL_RETRY_MS',
      'DEFAULT_MAX_RETRY_MS',
      'GAP_EVENT',
      'RETRY_STATUSES',
      'SseClientError',
      'createClient',
    ]);
  });
});
