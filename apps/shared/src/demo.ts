import type { AnyEventStream, Rejection } from '@sse/core';
import { createChatRoom, type ChatRoom } from './chat.js';
import { readConfig, type DemoConfig } from './config.js';
import { createLiveFeed } from './live.js';
import { parseMessageRequest, readBodyText, type JsonReply } from './messages.js';
import { loadPage, type PageAsset } from './page.js';
import { createPrivateFeed, type PrivateRequest } from './private.js';
import { exitOnSignals, type ClosableServer } from './shutdown.js';

/**
 * Everything the sample apps do, framework-neutral. Each app's server file maps its routes to
 * these members and adds nothing but framework glue.
 */
export interface Demo {
  readonly config: DemoConfig;
  /** The page: `GET /`, `/app.js`, `/style.css`. */
  readonly page: readonly PageAsset[];
  /** Options for every `sse()` route: streams close on shutdown. */
  readonly streamOptions: { signal: AbortSignal };
  /** `GET /sse`: welcome, status, then the time and the metrics every tick. */
  live(stream: AnyEventStream): void;
  /** `GET /chat`: what the client missed (replay or snapshot), then new messages. */
  chat(stream: AnyEventStream): void;
  /** `authorize` of `GET /private`: 401 without a valid token, 429 past the per-client cap. */
  authorizePrivate(request: PrivateRequest): Rejection | true;
  /** `GET /private`, once authorized. */
  privateStream(stream: AnyEventStream, client: string): void;
  /** `POST /messages`: validates and broadcasts; 201 with the message, or 400/413/415/503. */
  postMessage(contentType: string | undefined, body: AsyncIterable<Uint8Array> | null): Promise<JsonReply>;
  /** Prints the startup line with the URL (call it once the server listens). */
  listening(server: ListeningServer): void;
  /** Closes every stream on SIGINT/SIGTERM, then the server, then exits. */
  exitOnSignals(server: ClosableServer): void;
}

/** What `listening()` needs of a server: Node's `server.address()`. */
export interface ListeningServer {
  address(): { port: number } | string | null;
}

const SHUTTING_DOWN: JsonReply = {
  status: 503,
  headers: { 'retry-after': '2' },
  body: { error: 'the server is shutting down; send it again in a moment' },
};

/** Reconnection delay sent to each client: spread out so that a restart does not bring every client back at once. */
function reconnectDelay(): number {
  return 1000 + Math.floor(Math.random() * 1000);
}

export function createDemo(framework: string, config: DemoConfig = readConfig()): Demo {
  const shutdown = new AbortController();
  const chat: ChatRoom = createChatRoom();
  const live = createLiveFeed(framework, config.tickMs);
  const privateFeed = createPrivateFeed({ token: config.privateToken });
  const startedAt = Date.now();
  let tick = 0;

  const ticker = setInterval(() => {
    tick++;
    live.tick(tick, {
      tick,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      memoryMiB: Math.round((process.memoryUsage.rss() / 1_048_576) * 10) / 10,
      streams: { live: live.listeners, chat: chat.listeners, private: privateFeed.listeners },
      messages: chat.posted,
    });
    privateFeed.tick();
  }, config.tickMs);

  const open = (stream: AnyEventStream): void => {
    stream.send({ retry: reconnectDelay() });
  };

  return {
    config,
    page: loadPage(),
    streamOptions: { signal: shutdown.signal },
    live(stream) {
      open(stream);
      live.join(stream);
    },
    chat(stream) {
      open(stream);
      chat.join(stream);
    },
    authorizePrivate: (request) => privateFeed.authorize(request),
    privateStream(stream, client) {
      open(stream);
      privateFeed.join(stream, client);
    },
    async postMessage(contentType, body) {
      const parsed = parseMessageRequest(contentType, await readBodyText(body));
      if (!parsed.ok) return parsed.reply;
      // Checked once the body is in: accepting it now would lose it, since the streams that
      // should carry it are closing.
      if (shutdown.signal.aborted) return SHUTTING_DOWN;
      const message = await chat.post(parsed.input);
      return { status: 201, headers: {}, body: message };
    },
    listening(server) {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      console.log(`${framework} demo listening on http://localhost:${port}`);
    },
    exitOnSignals(server) {
      exitOnSignals(server, {
        closeStreams() {
          live.announce({ state: 'shutting-down', text: 'the server is shutting down; this page reconnects by itself' });
          clearInterval(ticker);
          // Every stream was opened with this signal: each one ends cleanly (queued events first).
          shutdown.abort();
          void chat.close();
        },
      });
    },
  };
}
