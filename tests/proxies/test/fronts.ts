import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStreamRegistry, type EventStream, type StreamRegistry } from '@sse/core';
import { sse, type NodeSseOptions } from '@sse/node';
import { listen, type MountedServer } from '@sse/conformance';

/** How long a wait may take before it fails with what it saw: a hang guard, not a timing check. */
export const WAIT_MS = 15_000;

/** Whether a binary runs here (`nginx -v`, `haproxy -v`, `caddy version`). */
export function hasBinary(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/** A port nobody listens on right now, on 127.0.0.1 (for fronts, which cannot be given port 0). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `condition()` holds, polling; fails after {@link WAIT_MS} with `describe()`. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${WAIT_MS} ms; ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A front started as a child process, with its own config in a temp dir. */
export interface Front {
  /** `http://127.0.0.1:<port>` + the path given. */
  url: string;
  /** What the front wrote to stdout/stderr (for failure messages). */
  output(): string;
  /** Stops the process (by pid) and removes its temp dir. */
  stop(): Promise<void>;
}

export interface FrontSpec {
  command: string;
  /** Arguments, given the temp dir and the config file path. */
  args: (dir: string, configPath: string) => string[];
  /** The config file's text, given the temp dir, the front's port and the origin's port. */
  config: (dir: string, port: number, originPort: number) => string;
  configName: string;
  env?: (dir: string) => Record<string, string>;
  /** Defaults to `SIGTERM`. */
  stopSignal?: NodeJS.Signals;
}

/** Starts a front on a free loopback port in front of `originUrl`, and resolves once it accepts connections. */
export async function startFront(spec: FrontSpec, originUrl: string, path = '/'): Promise<Front> {
  const dir = mkdtempSync(join(tmpdir(), `sse-${spec.command}-`));
  const port = await freePort();
  const originPort = Number(new URL(originUrl).port);
  const configPath = join(dir, spec.configName);
  writeFileSync(configPath, spec.config(dir, port, originPort));
  const child = spawn(spec.command, spec.args(dir, configPath), {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env?.(dir) },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the test process dies before afterAll (a hang guard, Ctrl-C), the front must not outlive it.
  const killOnExit = (): void => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const stop = async (): Promise<void> => {
    await stopChild(child, exited, spec.stopSignal ?? 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${spec.command} exited with ${child.exitCode}: ${output}`);
        return accepts(port);
      },
      `${spec.command} to listen on 127.0.0.1:${port}`,
      () => output,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}${path}`, output: () => output, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, signal);
  const killer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(killer);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The @sse/node server behind the fronts: each stream it opened, and a registry that counts them. */
export interface Origin extends MountedServer {
  streams: EventStream[];
  registry: StreamRegistry;
  /** Each request as the origin saw it: its HTTP version, headers, and whether a FIN came in on its socket. */
  requests: Array<{ httpVersion: string; headers: Record<string, string | string[] | undefined>; socketEnded: () => boolean }>;
}

/** Starts `sse()` from @sse/node on node:http, 127.0.0.1, port 0; streams stay open until the client leaves. */
export async function startOrigin(options: NodeSseOptions = {}): Promise<Origin> {
  const streams: EventStream[] = [];
  const requests: Origin['requests'] = [];
  const registry = createStreamRegistry();
  const server: Server = createServer(
    sse(
      (stream, req) => {
        let ended = false;
        req.socket.once('end', () => (ended = true));
        requests.push({ httpVersion: req.httpVersion, headers: { ...req.headers }, socketEnded: () => ended });
        streams.push(stream);
      },
      { keepAlive: false, registry, ...options },
    ),
  );
  const mounted = await listen(server, '/events');
  return Object.assign(mounted, { streams, registry, requests });
}

/** What the docs recommend for an SSE location (packages/node/README.md, "Behind a proxy"). */
export const NGINX_SSE_CONFIG = `
      proxy_http_version 1.1;
      proxy_set_header Connection '';
      proxy_buffering off;
      proxy_read_timeout 1h;`;

/** nginx from Debian, run in the foreground with `extra` inside its one `location`. */
export function nginx(extra: string): FrontSpec {
  return {
    command: 'nginx',
    configName: 'nginx.conf',
    // -e: the error log goes to stderr from the start, never to /var/log/nginx.
    args: (dir, config) => ['-p', dir, '-c', config, '-e', 'stderr', '-g', 'daemon off;'],
    config: (dir, port, originPort) => `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${originPort};
${extra}
    }
  }
}
`,
  };
}

/**
 * nginx as an HTTP/2 + TLS front (`listen … ssl http2`), with a self-signed certificate made by
 * `openssl` in its temp dir, and the SSE config in its `location`.
 */
export function nginxHttp2(): FrontSpec {
  const plain = nginx(NGINX_SSE_CONFIG);
  return {
    ...plain,
    config: (dir, port, originPort) => {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      if (made.status !== 0) throw new Error('openssl could not make a self-signed certificate for the HTTP/2 front');
      return plain
        .config(dir, port, originPort)
        .replace(`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${port} ssl http2;\n    ssl_certificate ${dir}/cert.pem;\n    ssl_certificate_key ${dir}/key.pem;`);
    },
  };
}

/** HAProxy from Debian in the foreground (`-db`), HTTP mode, with `options` in its defaults. */
export function haproxy(options: string[]): FrontSpec {
  return {
    command: 'haproxy',
    configName: 'haproxy.cfg',
    args: (_dir, config) => ['-f', config, '-db'],
    config: (_dir, port, originPort) => `
global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${options.map((option) => `  ${option}`).join('\n')}
frontend front
  bind 127.0.0.1:${port}
  default_backend origin
backend origin
  server origin 127.0.0.1:${originPort}
`,
  };
}

/**
 * Caddy from Debian: HTTP only on loopback, no admin endpoint, `directives` before
 * `reverse_proxy`, and `proxyOptions` inside its block.
 */
export function caddy(directives: string[], proxyOptions: string[] = []): FrontSpec {
  return {
    command: 'caddy',
    configName: 'Caddyfile',
    args: (_dir, config) => ['run', '--config', config, '--adapter', 'caddyfile'],
    // SIGTERM makes Caddy wait out a graceful shutdown (over a second); the test needs none.
    stopSignal: 'SIGQUIT',
    env: (dir) => ({ HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') }),
    config: (_dir, port, originPort) => `
{
  admin off
  auto_https off
}
http://127.0.0.1:${port} {
  bind 127.0.0.1
${directives.map((directive) => `  ${directive}`).join('\n')}
  reverse_proxy 127.0.0.1:${originPort} {
${proxyOptions.map((option) => `    ${option}`).join('\n')}
  }
}
`,
  };
}

/**
 * Sends `count` events one at a time and waits for each to reach the client, like
 * `expectEventsOneByOne`, and returns how long each took, in ms: figures for the README, never
 * asserted (the machine is shared).
 */
export async function eventLatencies(
  client: { waitForEvents(count: number): Promise<unknown> ; events: unknown[] },
  send: (n: number) => void,
  count = 5,
): Promise<number[]> {
  const before = client.events.length;
  const latencies: number[] = [];
  for (let n = 1; n <= count; n++) {
    const start = performance.now();
    send(n);
    await client.waitForEvents(before + n);
    latencies.push(Math.round(performance.now() - start));
  }
  return latencies;
}

/** Prints a measured figure under the test's name, for the report (never asserted). */
export function report(what: string, value: unknown): void {
  console.info(`[measured] ${what}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}
