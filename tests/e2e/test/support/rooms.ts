import type { RoomMessage } from '@sse-example/shared';

/** Posts to a room the way the page does; fails the test unless it was accepted. */
export async function postRoomMessage(baseUrl: string, room: string, text: string, name = 'e2e'): Promise<RoomMessage> {
  const response = await fetch(`${baseUrl}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text, name }),
  });
  if (response.status !== 201) throw new Error(`POST /rooms/${room}/messages answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as RoomMessage;
}

/** A room name of a test's own (a valid slug): the rooms of an app are shared by all its tests. */
export function uniqueRoom(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 8)}`;
}
