import { createStreamRegistry, type AuthorizeResult } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { requestEventStream } from '@sse/conformance';
import { record } from './figures.js';
import { adapters } from './servers.js';

// Authorization that fails open, and hand-made rejections, on every adapter over real sockets:
// what a client gets, how many handlers ran, and whether any registry slot stayed taken.

describe.each(Object.entries(adapters))('authorize on %s', (name, mount) => {
  it('fails closed: undefined, null, 0, empty string, Promise<undefined> and a user object answer 403, run no handler, take no slot, and are reported', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    let verdict: unknown;
    let runs = 0;
    const errors: unknown[] = [];
    const server = await mount(
      (stream) => {
        runs++;
        stream.send('secret');
      },
      { registry, keepAlive: false, authorize: () => verdict as AuthorizeResult, onError: (error) => errors.push(error) },
    );
    try {
      // `(req) => req.user && req.user.isAdmin` without a user, and its variants.
      const attacks: unknown[] = [undefined, null, 0, '', Promise.resolve(undefined), { id: 'user-without-a-status' }];
      const statuses: number[] = [];
      let leaked = 0;
      for (let round = 0; round < 5; round++) {
        for (const attack of attacks) {
          verdict = attack;
          const client = await requestEventStream(server.url, { light: true });
          await client.waitForEnd();
          statuses.push(client.status);
          if (client.text.includes('secret')) leaked++;
        }
      }
      expect(new Set(statuses)).toEqual(new Set([403]));
      const attackRuns = runs;
      expect([attackRuns, leaked, registry.size]).toEqual([0, 0, 0]);
      expect(errors).toHaveLength(attacks.length * 5);
      expect(new Set(errors.map((error) => (error as { code?: unknown }).code))).toEqual(new Set(['ERR_SSE_AUTHORIZE_RESULT']));
      verdict = true;
      const allowed = await requestEventStream(server.url);
      expect((await allowed.waitForEvents(1)).map((e) => e.data)).toEqual(['secret']);
      allowed.close();
      record(`fail-closed ${name}`, { attacks: statuses.length, refused: statuses.filter((s) => s === 403).length, handlerRuns: attackRuns, slotsTaken: 0, leaked });
    } finally {
      await server.close();
    }
  });

  it('answers a hand-made rejection as reject() would: { status: 401 }, { status: 204 }, with and without headers and body', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    let verdict: AuthorizeResult = true;
    let runs = 0;
    const server = await mount(
      () => {
        runs++;
      },
      { registry, keepAlive: false, authorize: () => verdict },
    );
    try {
      const seen: Array<[number, string, string | undefined]> = [];
      for (const answer of [{ status: 401 }, { status: 204 }, { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'token please' }, { status: 503, retryAfter: 9 }]) {
        verdict = answer;
        const client = await requestEventStream(server.url);
        await client.waitForEnd();
        seen.push([client.status, client.text, (client.headers['www-authenticate'] ?? client.headers['retry-after']) as string | undefined]);
      }
      expect(seen).toEqual([
        [401, 'Unauthorized', undefined],
        [204, '', undefined],
        [401, 'token please', 'Bearer'],
        [503, 'Service Unavailable', '9'],
      ]);
      expect([runs, registry.size]).toEqual([0, 0]);
    } finally {
      await server.close();
    }
  });
});
