import type { ChatMessage } from '@sse-example/shared';

/** Posts a chat message the way the page does; fails the test unless it was accepted. */
export async function postMessage(baseUrl: string, text: string, name = 'e2e'): Promise<ChatMessage> {
  const response = await fetch(`${baseUrl}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text, name }),
  });
  if (response.status !== 201) throw new Error(`POST /messages answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as ChatMessage;
}

/** A prefix that makes a test's messages its own: the chat history is shared by every test of an app. */
export function uniquePrefix(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The value of an unlabelled metric in Prometheus text; fails when it is missing. */
export function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (match === null) throw new Error(`no ${name} in:\n${text}`);
  return Number(match[1]);
}
