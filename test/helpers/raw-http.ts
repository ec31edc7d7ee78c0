import net from 'node:net';

export interface RawResponse {
  /** e.g. "HTTP/1.1 400 Bad Request" */
  statusLine: string;
  status: number;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** The RFC 6455 §1.3 sample key and its accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A valid upgrade request for `path`; `extra` lines are appended, `replace` swaps whole lines by header name. */
export function upgradeRequest(path: string, extra: string[] = [], drop: string[] = []): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${SAMPLE_KEY}`,
    'Sec-WebSocket-Version: 13',
  ].filter((line) => !drop.some((name) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`)));
  return [...lines, ...extra, '', ''].join('\r\n');
}

/**
 * Write `request` as is and read the response head (and the body up to the
 * end of the connection, or just the head of a 101). Resolves when the server
 * ends the connection, or, for a 101, once the head is complete.
 */
export function rawExchange(port: number, request: string): Promise<RawResponse & { socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const finish = () => {
      if (settled) return;
      const headEnd = data.indexOf('\r\n\r\n');
      if (headEnd === -1) {
        settled = true;
        reject(new Error(`connection ended without a response head: ${JSON.stringify(data)}`));
        return;
      }
      settled = true;
      resolve({ ...parseResponse(data), socket });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.startsWith('HTTP/1.1 101') && data.includes('\r\n\r\n')) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    socket.write(request);
  });
}

export function parseResponse(raw: string): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  const { statusLine, status, headers } = parseHead(raw.slice(0, headEnd));
  return { statusLine, status, headers, body: raw.slice(headEnd + 4), raw };
}

/** A response head (status line and headers, no blank line): repeated headers joined with ', ', names lower-cased. */
export function parseHead(head: string): { statusLine: string; status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers };
}
