import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/**
 * A request sent up to, but not including, the blank line that ends its headers: the server
 * counts the connection as busy (a shutdown does not close it as idle) but cannot answer yet.
 * `release()` sends the rest, so a test can place a brand-new request at a chosen moment of a
 * shutdown, with no timing involved.
 */
export interface HeldRequest {
  /** Sends the end of the request; resolves with the answer. */
  release(): Promise<RawResponse>;
  close(): void;
}

export async function holdRequest(
  port: number,
  request: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<HeldRequest> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const body = request.body ?? '';
  const headers = { host: `127.0.0.1:${port}`, ...request.headers, ...(body === '' ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
  const head = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  socket.write(`${head.join('\r\n')}\r\n`);

  let received = Buffer.alloc(0);
  const answered = new Promise<RawResponse>((resolve, reject) => {
    const tryParse = (ended: boolean): void => {
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) {
        if (ended) reject(new Error(`the connection closed without a complete answer: ${JSON.stringify(text)}`));
        return;
      }
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const responseHeaders: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        responseHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = responseHeaders['content-length'];
      const bodyBytes = received.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      if (length !== undefined ? bodyBytes.length < Number(length) : !ended) return;
      resolve({ status: Number(statusLine.split(' ')[1]), headers: responseHeaders, body: bodyBytes.toString('utf8') });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryParse(false);
    });
    socket.once('close', () => tryParse(true));
    socket.once('error', () => {});
  });

  return {
    release() {
      socket.write(`\r\n${body}`);
      return answered;
    },
    close() {
      socket.destroy();
    },
  };
}
