/** The part of a Node `http.Server` that shutdown needs (Express, Koa and `@hono/node-server` all give one). */
export interface ClosableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
}

export interface ShutdownOptions {
  /**
   * Ends every stream and releases what the app holds when a signal arrives; the server is
   * closed once it settles. New requests keep getting answers meanwhile (come back later).
   */
  drain: () => Promise<unknown>;
  /** Past this many ms, the remaining connections are cut and the process exits with code 1. Defaults to `5000`. */
  forceAfterMs?: number;
  log?: (line: string) => void;
}

/**
 * On SIGINT or SIGTERM: drains (clients get a last event and the end of the stream, and
 * reconnect later), then stops accepting connections, closes idle keep-alive connections as they
 * become idle, and exits with code 0 once the server is closed. A second signal, or
 * `forceAfterMs`, cuts what is left and exits with code 1.
 */
export function exitOnSignals(server: ClosableServer, options: ShutdownOptions): void {
  const forceAfterMs = options.forceAfterMs ?? 5000;
  const log = options.log ?? ((line: string) => console.log(line));
  let stopping = false;

  const force = (why: string): void => {
    log(`${why}: cutting the remaining connections`);
    server.closeAllConnections?.();
    process.exit(1);
  };

  const closeServer = (): void => {
    server.close(() => process.exit(0));
    // A stream that just ended leaves a keep-alive connection that would hold close() open
    // until it times out: close each one as soon as it is idle.
    server.closeIdleConnections?.();
    const sweep = setInterval(() => server.closeIdleConnections?.(), 50);
    sweep.unref();
  };

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      force(`${signal} again`);
      return;
    }
    stopping = true;
    log(`${signal} received: closing every stream and shutting down`);
    setTimeout(() => force(`still open after ${forceAfterMs} ms`), forceAfterMs).unref();
    options
      .drain()
      .catch((error: unknown) => log(`draining failed, closing anyway: ${String(error)}`))
      .finally(closeServer);
  };

  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
