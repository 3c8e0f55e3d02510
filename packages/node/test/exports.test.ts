// The published surface of @sse/node, pinned: every adapter exports the same user API (that of
// `@sse/core/user-api`) plus its own `sse()`, so a user who switches framework changes one import.
import { describe, expect, it } from 'vitest';

// The user API itself is pinned name by name in @sse/core's own exports test; here each adapter
// must export exactly that list plus its `sse()`.
const userApi = async (): Promise<string[]> => Object.keys(await import('@sse/core/user-api')).sort();

describe('@sse/node entry points', () => {
  it('@sse/node: sse() and the user API every adapter shares', async () => {
    expect(Object.keys(await import('@sse/node')).sort()).toEqual([...(await userApi()), 'sse'].sort());
  });

  it('@sse/node/adapter: what adapters on Node responses build on', async () => {
    expect(Object.keys(await import('@sse/node/adapter')).sort()).toEqual(['closeOnClientFin', 'createNodeSink', 'directSocket', 'isConnectionError', 'outgoingPrototype', 'recordWritePath', 'serveNodeRequest', 'sinkWritePath', 'waitForTurn', 'writeChunk', 'writeRejection']);
  });
});
