import { createServer } from 'node:http';
import type { Server } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { listen, type MountedServer } from '@sse/conformance';
import type { EventStream, ServeOptions } from '@sse/core';
import { sse as expressSse, type ExpressSseOptions } from '@sse/express';
import { sse as fastifySse, type FastifySseOptions } from '@sse/fastify';
import { sse as honoSse, type HonoSseOptions } from '@sse/hono';
import { sse as koaSse, type KoaSseOptions } from '@sse/koa';
import { sse as nodeSse, type NodeSseOptions } from '@sse/node';
import express from 'express';
import fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';

export type Handler = (stream: EventStream) => unknown;
/** Options without framework arguments, so they fit every adapter's `sse()`. */
export type Options = ServeOptions<[]>;
export type Mount = (handler: Handler, options: Options) => Promise<MountedServer & { server: Server }>;

async function mountNode(server: Server): Promise<MountedServer & { server: Server }> {
  return { ...(await listen(server, '/sse')), server };
}

/** One real server per adapter, each serving the handler at /sse through that adapter's `sse()`. */
export const adapters: Record<'node' | 'express' | 'fastify' | 'koa' | 'hono', Mount> = {
  node: (handler, options) => mountNode(createServer(nodeSse((stream) => handler(stream), options as NodeSseOptions))),
  express: (handler, options) => {
    const app = express();
    app.get('/sse', expressSse((stream) => handler(stream), options as ExpressSseOptions));
    return mountNode(createServer(app));
  },
  fastify: async (handler, options) => {
    let server: Server | undefined;
    const app = fastify({ serverFactory: (handle) => (server = createServer(handle)) });
    app.get('/sse', fastifySse((stream) => handler(stream), options as FastifySseOptions));
    await app.ready();
    return mountNode(server!);
  },
  koa: (handler, options) => {
    const app = new Koa();
    app.use(koaSse((stream) => handler(stream), options as KoaSseOptions));
    const callback = app.callback();
    // Not awaited: Koa's callback reports its own errors (app.on('error')); node:http ignores the result.
    return mountNode(createServer((req, res) => void callback(req, res)));
  },
  hono: (handler, options) => {
    const app = new Hono();
    app.get('/sse', honoSse((stream) => handler(stream), options as HonoSseOptions));
    return mountNode(createAdaptorServer({ fetch: app.fetch }) as unknown as Server);
  },
};
