import { createHash, timingSafeEqual } from 'node:crypto';
import { createChannel, reject, type AnyEventStream, type Rejection } from '@sse/core';

/** Events of `GET /private`. */
export type PrivateEvents = {
  private: { text: string; at: string; openPrivateStreams: number };
};

/** What `authorize` needs to know about a `/private` request. */
export interface PrivateRequest {
  /** The `Authorization` header: `Bearer <token>`. */
  authorization: string | undefined;
  /**
   * The request URL. Not read: a token in a URL ends up in server and proxy logs, so `?token=`
   * is refused like no token (the page sends the header with @sse/client).
   */
  url?: string;
}

export interface PrivateFeedOptions {
  token: string;
}

export interface PrivateFeed {
  /** `true` to open the stream; 401 without a valid token. (The per-client cap is the stream registry's.) */
  authorize(request: PrivateRequest): Rejection | true;
  /** Adds an authorized stream. */
  join(stream: AnyEventStream): void;
  tick(): void;
  readonly listeners: number;
}

/** Open `/private` streams allowed per client; past it, 429 + `Retry-After`. */
export const MAX_PRIVATE_STREAMS_PER_CLIENT = 3;
/** `Retry-After` of that 429, in seconds. */
export const PRIVATE_RETRY_AFTER_SECONDS = 5;

/** The token from `Authorization: Bearer …`, the only place it is read. */
export function readToken(authorization: string | undefined): string | undefined {
  return /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function createPrivateFeed(options: PrivateFeedOptions): PrivateFeed {
  const expected = digest(options.token);
  const channel = createChannel<PrivateEvents>();
  const challenge = { 'www-authenticate': 'Bearer realm="private"' };

  const message = (text: string): PrivateEvents['private'] => ({ text, at: new Date().toISOString(), openPrivateStreams: channel.size });

  return {
    authorize(request) {
      const token = readToken(request.authorization);
      if (token === undefined) {
        return reject(401, { headers: challenge, body: 'a token is required: send Authorization: Bearer <token>' });
      }
      // Compared in constant time, so the answer's timing does not reveal how much of it matched.
      if (!timingSafeEqual(digest(token), expected)) return reject(401, { headers: challenge, body: 'the token is not valid' });
      return true;
    },
    join(stream) {
      channel.subscribe(stream, { replay: false });
      stream.send({ event: 'private', data: message('This stream is private: only holders of the token see it.') });
    },
    tick() {
      void channel.broadcast({ event: 'private', data: message('private heartbeat') }); // the channel reports a failed publish to onError
    },
    get listeners() {
      return channel.size;
    },
  };
}
