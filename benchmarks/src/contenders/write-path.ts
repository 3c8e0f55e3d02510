import * as node from '@sse/node';
import * as nodeAdapter from '@sse/node/adapter';
import type { NodeResponse } from '@sse/node';
import type { WritePaths } from './types.js';

type SinkWritePath = (res: NodeResponse) => 'socket' | 'response' | undefined;

/** `sinkWritePath` of @sse/node when this build exports it (it came with the pre-framed socket path). */
const sinkWritePath = ((node as Record<string, unknown>)['sinkWritePath'] ?? (nodeAdapter as Record<string, unknown>)['sinkWritePath']) as SinkWritePath | undefined;

/**
 * The responses of an @sse contender, to ask which write path each one took once the clients are
 * connected. Closed responses are dropped when sampling, not on 'close', so that tracking adds
 * no listener (and no closure) per connection to the memory figures.
 */
export function trackWritePaths(): { add(res: NodeResponse): void; writePaths(): WritePaths } {
  const responses = new Set<NodeResponse>();
  return {
    add(res) {
      responses.add(res);
    },
    writePaths() {
      const paths: WritePaths = {};
      for (const res of responses) {
        if (res.destroyed || res.writableEnded) {
          responses.delete(res);
          continue;
        }
        const path = typeof sinkWritePath === 'function' ? (sinkWritePath(res) ?? 'none') : 'unknown';
        paths[path] = (paths[path] ?? 0) + 1;
      }
      return paths;
    },
  };
}
