import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../src/testing.js';

/** `PONG` when a Redis answers on that URL, else the connection error's code. */
function ping(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (reply) => {
      socket.destroy();
      resolve(reply.toString().trim().replace(/^\+/, ''));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

describe('startRedisServer (@sse/redis/testing)', () => {
  it('starts redis-server on a free port; kill() crashes it, restart() brings its append-only data back; stop() cleans up', async () => {
    const server = await startRedisServer({ appendOnly: true });
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await ping(server.url)).toBe('PONG');
    const writer = new Redis(server.url);
    await writer.set('kept', 'yes');
    writer.disconnect();
    await expect(server.restart()).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_SERVER_RUNNING' });

    await server.kill();
    expect(await ping(server.url)).toBe('ECONNREFUSED');
    await server.restart();
    const reader = new Redis(server.url);
    expect(await reader.get('kept')).toBe('yes');
    reader.disconnect();

    expect(existsSync(server.dir)).toBe(true);
    await server.stop();
    await server.stop(); // idempotent
    expect(existsSync(server.dir)).toBe(false);
    expect(await ping(server.url)).toBe('ECONNREFUSED');
    await expect(server.restart()).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_SERVER_STOPPED' });
  });

  it('keeps nothing across a crash without appendOnly, and listens on the port it is given', async () => {
    const probe = await startRedisServer();
    const port = probe.port;
    await probe.stop();
    const server = await startRedisServer({ port });
    try {
      expect(server.port).toBe(port);
      const client = new Redis(server.url);
      await client.set('lost', 'yes');
      client.disconnect();
      await server.kill();
      await server.restart();
      const again = new Redis(server.url);
      expect(await again.get('lost')).toBeNull();
      again.disconnect();
      // The port is taken now: a second server there fails with a typed error.
      await expect(startRedisServer({ port })).rejects.toMatchObject({ name: 'SseError', code: 'ERR_SSE_REDIS_SERVER_PORT' });
    } finally {
      await server.stop();
    }
  });

  it('pause() freezes it with its connections open (SIGSTOP), resume() lets it answer again; pid names the process', async () => {
    const server = await startRedisServer();
    try {
      const pid = server.pid!;
      expect(pid).toBeTypeOf('number');
      expect(process.kill(pid, 0)).toBe(true); // that process exists
      const client = new Redis(server.url);
      expect(await client.ping()).toBe('PONG');
      await server.pause();
      let answered = false;
      const pong = client.ping().then((reply) => {
        answered = true;
        return reply;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toBe(false);
      expect(client.status).toBe('ready'); // the connection stays up
      await server.resume();
      expect(await pong).toBe('PONG');
      client.disconnect();
      await server.pause();
    } finally {
      await server.stop(); // also stops a paused server
    }
    expect(server.pid).toBeUndefined();
    expect(await ping(server.url)).toBe('ECONNREFUSED');
    await expect(server.pause()).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_SERVER_STOPPED' });
  });

  it('says how to install redis-server when the binary is missing', async () => {
    const attempt = startRedisServer({ command: '/nonexistent/redis-server' });
    await expect(attempt).rejects.toMatchObject({ name: 'SseError', code: 'ERR_SSE_REDIS_SERVER_NOT_FOUND' });
    await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
  });
});
