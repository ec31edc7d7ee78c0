/**
 * The client's opening handshake, RFC 6455 §4.1: send the upgrade request
 * through Node's HTTP client (over TCP or the in-memory pair), then check the
 * server's 101 the way §4.1 tells a client to — or collect the refusal
 * (status, headers and body) so a test can assert on it.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { acceptKey } from '../handshake/accept-key';
import { describeText } from './describe';
import type { Transport } from './target';

/** The server's answer to the upgrade request. */
export interface UpgradeResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
}

/** A refused upgrade: the HTTP response instead of a 101. */
export interface RefusedUpgrade extends UpgradeResponse {
  /** The response body as text (at most `MAX_BODY` bytes of it). */
  body: string;
}

export type HandshakeOutcome =
  | { kind: 'open'; socket: Duplex; head: Buffer; response: UpgradeResponse; protocol: string; extensions: string }
  | { kind: 'refused'; response: RefusedUpgrade }
  | { kind: 'failed'; reason: string };

/** A refused upgrade's body is read up to this many bytes (the rest is dropped). */
export const MAX_BODY = 64 * 1024;

export interface HandshakeRequest {
  path: string;
  headers: Record<string, string>;
  /** Header names to leave out, the helper's own included. */
  unset: readonly string[];
  protocols: readonly string[];
  timeoutMs: number;
}

export function openingHandshake(transport: Transport, request: HandshakeRequest): Promise<HandshakeOutcome> {
  // §4.1: "a nonce consisting of a randomly selected 16-byte value that has been base64-encoded".
  const defaults: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
  };
  if (request.protocols.length > 0) defaults['Sec-WebSocket-Protocol'] = request.protocols.join(', ');
  // Header names are case-insensitive: the test's own headers replace the helper's, `unset` removes them.
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of Object.entries(defaults)) merged.set(name.toLowerCase(), [name, value]);
  for (const [name, value] of Object.entries(request.headers)) merged.set(name.toLowerCase(), [name, value]);
  for (const name of request.unset) merged.delete(name.toLowerCase());
  const headers: Record<string, string> = {};
  for (const [name, value] of merged.values()) headers[name] = value;
  const key = merged.get('sec-websocket-key')?.[1] ?? '';
  const offeredExtensions = merged.has('sec-websocket-extensions');
  const client = transport.secure ? https : http;
  return new Promise<HandshakeOutcome>((resolve) => {
    let done = false;
    const finish = (outcome: HandshakeOutcome): void => {
      if (done) {
        if (outcome.kind === 'open') outcome.socket.destroy();
        return;
      }
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = client.request({ ...transport.requestOptions, method: 'GET', path: request.path, headers });
    const timer = setTimeout(() => {
      finish({ kind: 'failed', reason: `no answer to the upgrade request within ${request.timeoutMs} ms` });
      req.destroy();
    }, request.timeoutMs);
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      const response = responseOf(res);
      const problem = checkAccept(res.headers, key, request.protocols, offeredExtensions);
      if (problem !== null) {
        socket.destroy();
        finish({ kind: 'failed', reason: `the server answered 101 but ${problem}` });
        return;
      }
      finish({
        kind: 'open',
        socket,
        head,
        response,
        protocol: headerValue(res.headers['sec-websocket-protocol']),
        extensions: headerValue(res.headers['sec-websocket-extensions']),
      });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const refused = (): void => {
        finish({ kind: 'refused', response: { ...responseOf(res), body: Buffer.concat(chunks).toString('utf8') } });
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (length >= MAX_BODY) return;
        chunks.push(chunk.subarray(0, MAX_BODY - length));
        length += chunk.length;
      });
      res.on('end', refused);
      // The server may close the connection right after its response.
      res.on('close', refused);
      res.on('error', refused);
    });
    req.on('error', (err: Error) => {
      finish({ kind: 'failed', reason: `the connection failed before an answer (${err.message})` });
    });
    req.end();
  });
}

function responseOf(res: IncomingMessage): UpgradeResponse {
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers };
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** §4.1, the client's checks of a 101 (items 2–6); null when they pass. */
function checkAccept(
  headers: IncomingHttpHeaders,
  key: string,
  offered: readonly string[],
  offeredExtensions: boolean,
): string | null {
  if (headerValue(headers.upgrade).toLowerCase() !== 'websocket') {
    return `with Upgrade ${describeText(headerValue(headers.upgrade))} instead of "websocket"`;
  }
  const connection = headerValue(headers.connection).split(',').map((token) => token.trim().toLowerCase());
  if (!connection.includes('upgrade')) {
    return `with Connection ${describeText(headerValue(headers.connection))} instead of "Upgrade"`;
  }
  const accept = headerValue(headers['sec-websocket-accept']);
  if (accept !== acceptKey(key)) return `with Sec-WebSocket-Accept ${describeText(accept)}, not ${describeText(acceptKey(key))}`;
  const protocol = headerValue(headers['sec-websocket-protocol']);
  if (protocol !== '' && !offered.includes(protocol)) {
    return `chose the subprotocol ${describeText(protocol)}, which the client did not offer`;
  }
  const extensions = headerValue(headers['sec-websocket-extensions']);
  if (extensions !== '' && !offeredExtensions) {
    return `answered extensions ${describeText(extensions)} that the client did not offer`;
  }
  return null;
}
