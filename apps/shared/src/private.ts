import { createHash, timingSafeEqual } from 'node:crypto';
import { createChannel, reject, type AnyEventStream, type Rejection } from '@sse/core';

/** Events of `GET /private`. */
export type PrivateEvents = {
  private: { text: string; at: string; openPrivateStreams: number };
};

/** What `authorize` needs to know about a `/private` request. */
export interface PrivateRequest {
  /** The `Authorization` header. */
  authorization: string | undefined;
  /** The request URL (path and query are enough), for `?token=`. */
  url: string;
  /** Who is asking: the client's IP address. */
  client: string;
}

export interface PrivateFeedOptions {
  token: string;
  /** Open `/private` streams allowed per client; past it, 429. Defaults to `3`. */
  maxStreamsPerClient?: number;
  /** `Retry-After` of a 429, in seconds. Defaults to `5`. */
  retryAfterSeconds?: number;
}

export interface PrivateFeed {
  /** `true` to open the stream; 401 without a valid token, 429 past the per-client cap. */
  authorize(request: PrivateRequest): Rejection | true;
  /** Adds an authorized stream and counts it against its client until it closes. */
  join(stream: AnyEventStream, client: string): void;
  tick(): void;
  readonly listeners: number;
}

export const DEFAULT_MAX_PRIVATE_STREAMS_PER_CLIENT = 3;

/** The token from `Authorization: Bearer …`, else from `?token=` (EventSource cannot set headers). */
export function readToken(authorization: string | undefined, url: string): string | undefined {
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  if (bearer !== null) return bearer[1];
  const token = new URL(url, 'http://localhost').searchParams.get('token');
  return token === null || token === '' ? undefined : token;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function createPrivateFeed(options: PrivateFeedOptions): PrivateFeed {
  const maxPerClient = options.maxStreamsPerClient ?? DEFAULT_MAX_PRIVATE_STREAMS_PER_CLIENT;
  const retryAfter = options.retryAfterSeconds ?? 5;
  const expected = digest(options.token);
  const channel = createChannel<PrivateEvents>();
  const openByClient = new Map<string, number>();
  const challenge = { 'www-authenticate': 'Bearer realm="private"' };

  const message = (text: string): PrivateEvents['private'] => ({ text, at: new Date().toISOString(), openPrivateStreams: channel.size });

  return {
    authorize(request) {
      const token = readToken(request.authorization, request.url);
      if (token === undefined) {
        return reject(401, { headers: challenge, body: 'a token is required: add ?token=… or send Authorization: Bearer …' });
      }
      // Compared in constant time, so the answer's timing does not reveal how much of it matched.
      if (!timingSafeEqual(digest(token), expected)) return reject(401, { headers: challenge, body: 'the token is not valid' });
      if ((openByClient.get(request.client) ?? 0) >= maxPerClient) {
        return reject(429, {
          retryAfter,
          body: `at most ${maxPerClient} private streams per client are allowed; close one or retry in ${retryAfter} s`,
        });
      }
      return true;
    },
    join(stream, client) {
      // The adapters run authorize() and then this handler with no I/O in between, so two
      // requests cannot both pass the check before either is counted. Released on any close.
      openByClient.set(client, (openByClient.get(client) ?? 0) + 1);
      void stream.closed.then(() => {
        const left = (openByClient.get(client) ?? 1) - 1;
        if (left === 0) openByClient.delete(client);
        else openByClient.set(client, left);
      });
      channel.subscribe(stream, { replay: false });
      stream.send({ event: 'private', data: message('This stream is private: only holders of the token see it.') });
    },
    tick() {
      void channel.broadcast({ event: 'private', data: message('private heartbeat') });
    },
    get listeners() {
      return channel.size;
    },
  };
}
