// Clients that must come back: Chromium's own EventSources against a server whose registry turns
// them away (a drain, a full `maxStreams`). Any non-200 answer stops an EventSource for good, so
// the registry answers an EventSource with an empty 200 stream that holds only a `retry`; these
// tests prove that every one of them reconnects and receives new events, and (as the control)
// that with `refuseWith: 'status'` every one of them stops.
//
// Chromium opens at most 6 HTTP/1.1 connections per host in one browser context, so the clients
// are spread over pages of their own contexts (5 EventSources each).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createChannel, createStreamRegistry, sse, type Channel, type LifecycleEntry, type StreamRegistry, type StreamRegistryOptions } from '@sse/node';
import { WAIT, launchBrowser } from './support/browser.js';

const PAGES = 4;
const PER_PAGE = 5;
const CLIENTS = PAGES * PER_PAGE;

/** The page: `PER_PAGE` EventSources on `/events?client=<page>-<n>`, each recording what it saw. */
const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>reconnect</title><script>
  const params = new URLSearchParams(location.search);
  const page = params.get('page');
  window.clients = [];
  for (let n = 0; n < ${PER_PAGE}; n++) {
    const id = page + '-' + n;
    const state = { id, opens: 0, errors: 0, closedForGood: false, messages: [] };
    const source = new EventSource('/events?client=' + id);
    source.onopen = () => state.opens++;
    source.onerror = () => {
      state.errors++;
      if (source.readyState === EventSource.CLOSED) state.closedForGood = true;
    };
    source.onmessage = (event) => state.messages.push(event.data);
    state.close = () => source.close();
    window.clients.push(state);
  }
</script>`;

interface ClientState {
  id: string;
  opens: number;
  errors: number;
  closedForGood: boolean;
  messages: string[];
}

/** One "instance" of the app: a registry and the channel its streams listen to. */
interface Instance {
  registry: StreamRegistry;
  channel: Channel;
  /** Every lifecycle entry, in order. */
  entries: LifecycleEntry[];
  /** Keys (client ids) of the streams open now. */
  openKeys(): string[];
  /** Keys this instance turned away, with how often. */
  refused(): Map<string, number>;
}

function createInstance(options: StreamRegistryOptions = {}): Instance {
  const entries: LifecycleEntry[] = [];
  const registry = createStreamRegistry({ retryAfterSeconds: 1, ...options, onLifecycle: (entry) => entries.push(entry) });
  const open = new Map<string, number>();
  return {
    registry,
    channel: createChannel(),
    entries,
    openKeys() {
      open.clear();
      for (const entry of entries) {
        if (entry.key === undefined) continue;
        if (entry.type === 'open') open.set(entry.key, (open.get(entry.key) ?? 0) + 1);
        if (entry.type === 'close') open.set(entry.key, (open.get(entry.key) ?? 0) - 1);
      }
      return [...open].filter(([, count]) => count > 0).map(([key]) => key).sort();
    },
    refused() {
      const refused = new Map<string, number>();
      for (const entry of entries) if (entry.type === 'reject' && entry.key !== undefined) refused.set(entry.key, (refused.get(entry.key) ?? 0) + 1);
      return refused;
    },
  };
}

/** A server whose `/events` route is served by whichever instance is current (a rolling deploy behind one address). */
async function startServer(): Promise<{ url: string; server: Server; use(instance: Instance): void; arrivedDuringDrain(): Map<string, number> }> {
  let handler: ReturnType<typeof sse> | undefined;
  let registry: StreamRegistry | undefined;
  // A drain turns requests away before any client key is read: the server counts them itself.
  const duringDrain = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
      return;
    }
    if (url.pathname === '/events' && handler !== undefined) {
      const client = url.searchParams.get('client') ?? '?';
      if (registry?.draining === true) duringDrain.set(client, (duringDrain.get(client) ?? 0) + 1);
      handler(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    arrivedDuringDrain: () => new Map(duringDrain),
    use(instance) {
      registry = instance.registry;
      const channel = instance.channel;
      handler = sse((stream) => void channel.subscribe(stream), {
        registry: instance.registry,
        // Each EventSource is its own client, so caps and the test can tell them apart.
        clientKey: (req) => new URL(req.url ?? '/', 'http://localhost').searchParams.get('client') ?? undefined,
        retry: 200, // a stream that ends is retried quickly
        retryJitter: 0.2,
        keepAlive: false,
      });
    },
  };
}

/** Polls `read` until `done(value)` holds, within the hang guard; fails with the last value seen. */
async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = WAIT.timeout): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

describe('Chromium EventSources turned away by a registry', () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function openPages(url: string): Promise<Page[]> {
    const pages: Page[] = [];
    for (let n = 0; n < PAGES; n++) {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${url}/?page=p${n}`);
      pages.push(page);
    }
    return pages;
  }

  const states = async (pages: Page[]): Promise<ClientState[]> =>
    (await Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as { clients: ClientState[] }).clients.map(({ id, opens, errors, closedForGood, messages }) => ({ id, opens, errors, closedForGood, messages })))))).flat();

  async function start(): Promise<Awaited<ReturnType<typeof startServer>>> {
    const started = await startServer();
    servers.push(started.server);
    return started;
  }

  test(`a drain: all ${CLIENTS} EventSources that reconnect during it are told to come back, and all of them come back to the next instance`, async () => {
    const server = await start();
    const old = createInstance();
    server.use(old);
    const pages = await openPages(server.url);
    await eventually(() => old.registry.size, (size) => size === CLIENTS, `${CLIENTS} open streams`);
    await old.channel.broadcast('before');
    await eventually(() => states(pages), (all) => all.every((client) => client.messages.includes('before')), 'every client to get "before"');

    // The rolling deploy: this instance drains, and goes on answering while the next one starts.
    const result = await old.registry.closeAll({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ closed: CLIENTS, forced: 0 });
    // Every client comes back within its 200 ms retry and is turned away, at least once, by the draining instance.
    await eventually(() => server.arrivedDuringDrain(), (arrived) => arrived.size === CLIENTS, `all ${CLIENTS} clients to be turned away by the drain`);
    expect(old.entries.filter((entry) => entry.type === 'reject').every((entry) => entry.type === 'reject' && entry.status === 200 && entry.cause === 'draining')).toBe(true);
    expect(old.registry.size).toBe(0);
    expect((await states(pages)).filter((client) => client.closedForGood)).toEqual([]);

    const next = createInstance();
    server.use(next);
    await eventually(() => next.registry.size, (size) => size === CLIENTS, `all ${CLIENTS} clients back on the next instance`);
    await next.channel.broadcast('after');
    const final = await eventually(() => states(pages), (all) => all.every((client) => client.messages.includes('after')), 'every client to get "after"');
    expect(final.filter((client) => client.closedForGood)).toEqual([]);
    expect(next.openKeys()).toEqual(final.map((client) => client.id).sort());
    console.log(`[measure] drain: ${CLIENTS} EventSources, ${[...server.arrivedDuringDrain().values()].reduce((a, b) => a + b, 0)} turned away during the drain, ${CLIENTS} came back, 0 stopped`);
  }, 60_000);

  test(`maxStreams: the clients it refused all come back once slots free`, async () => {
    const server = await start();
    const capped = createInstance({ maxStreams: CLIENTS / 2 });
    server.use(capped);
    const pages = await openPages(server.url);
    await eventually(() => capped.registry.size, (size) => size === CLIENTS / 2, `${CLIENTS / 2} open streams`);
    const admitted = capped.openKeys();
    const refusedKeys = (): string[] => [...capped.refused().keys()].filter((key) => !admitted.includes(key));
    await eventually(refusedKeys, (keys) => keys.length === CLIENTS / 2, `the other ${CLIENTS / 2} clients to be refused`);
    // Refused clients keep trying (a retry of about a second), and none stops for good.
    await eventually(() => capped.refused(), (refused) => refusedKeys().every((key) => (refused.get(key) ?? 0) >= 2), 'every refused client to try again');
    expect((await states(pages)).filter((client) => client.closedForGood)).toEqual([]);

    // The admitted clients leave (their tabs close their EventSources): slots free.
    await Promise.all(pages.map((page) => page.evaluate((ids) => {
      for (const client of (window as unknown as { clients: Array<{ id: string; close(): void }> }).clients) if (ids.includes(client.id)) client.close();
    }, admitted)));
    const waiting = refusedKeys().sort();
    await eventually(() => capped.openKeys(), (keys) => JSON.stringify(keys) === JSON.stringify(waiting), 'every refused client to get a slot');
    await capped.channel.broadcast('welcome in');
    const final = await eventually(
      () => states(pages),
      (all) => all.filter((client) => waiting.includes(client.id)).every((client) => client.messages.includes('welcome in')),
      'every formerly refused client to get an event',
    );
    expect(final.filter((client) => client.closedForGood)).toEqual([]);
    console.log(`[measure] maxStreams ${CLIENTS / 2}: ${CLIENTS / 2} refused clients, ${[...capped.refused().values()].reduce((a, b) => a + b, 0)} refusals, all ${CLIENTS / 2} admitted once slots freed, 0 stopped`);
  }, 60_000);

  test("the control: with refuseWith: 'status' (503 + Retry-After) every EventSource turned away by the drain stops for good", async () => {
    const server = await start();
    const old = createInstance({ refuseWith: 'status' });
    server.use(old);
    const pages = await openPages(server.url);
    await eventually(() => old.registry.size, (size) => size === CLIENTS, `${CLIENTS} open streams`);
    await old.registry.closeAll({ timeoutMs: 10_000 });
    const final = await eventually(() => states(pages), (all) => all.every((client) => client.closedForGood), 'every client to stop');
    expect(final).toHaveLength(CLIENTS);
    expect(server.arrivedDuringDrain().size).toBe(CLIENTS);
    expect(old.entries.filter((entry) => entry.type === 'reject').every((entry) => entry.type === 'reject' && entry.status === 503)).toBe(true);
  }, 60_000);
});
