// A webhook receiver in the test process: a node http server on 127.0.0.1 that records every
// request (method, path, headers, body, time) and answers with a status the test switches.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: Date;
}

export class Receiver {
  readonly requests: Received[] = [];
  status = 200;
  contentType = 'application/json';
  body = '{"ok":true}';
  private server: http.Server;

  private constructor(server: http.Server) {
    this.server = server;
  }

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    const receiver = new Receiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        receiver.requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: new Date(),
        });
        response.writeHead(receiver.status, { 'content-type': receiver.contentType });
        response.end(receiver.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Waits for a request that `accept` takes, received after `since` (a count of requests). */
  async next(since: number, accept: (r: Received) => boolean = () => true, ms = 15_000): Promise<Received> {
    const until = Date.now() + ms;
    for (;;) {
      const found = this.requests.slice(since).find(accept);
      if (found) return found;
      if (Date.now() > until) throw new Error(`the receiver got no such request within ${ms} ms (${this.requests.length} in all)`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The JSON event in a delivery's body. */
export const eventOf = (request: Received): any => JSON.parse(request.body);

/**
 * Checks a Standard Webhooks signature (`webhook-signature: v1,<base64>` space-separated) of a
 * request against a `whsec_` secret: true when one of the signatures is the secret's.
 */
export function signedWith(request: Received, secret: string): boolean {
  const id = String(request.headers['webhook-id'] ?? '');
  const timestamp = String(request.headers['webhook-timestamp'] ?? '');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest();
  return String(request.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
