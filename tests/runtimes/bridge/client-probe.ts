// @sse/client run inside a runtime against the test process's server (test/client.test.ts):
// a header per attempt, a reconnect with Last-Event-ID, typed events through async iteration,
// and the stop on 204. What it saw goes back as JSON.
import { createClient } from '@sse/client';

export interface ProbeResult {
  seen: Array<[string, unknown, string]>;
  reason: string;
  status: number | undefined;
  retries: number;
}

export async function probe(url: string): Promise<ProbeResult> {
  let retries = 0;
  const client = createClient<{ tick: { n: number } }>(url, {
    headers: ({ attempt }) => ({ authorization: `Bearer token-${attempt}` }),
    initialRetryMs: 1,
    onRetry: () => void retries++,
  });
  const seen: ProbeResult['seen'] = [];
  for await (const item of client) if (item.kind === 'event') seen.push([item.type, item.data, item.id]);
  const info = await client.closed;
  return { seen, reason: info.reason, status: info.status, retries };
}
