/**
 * Where a chain's connection goes, and what to undo afterwards:
 *
 * - an Express app → in memory, through the HTTP server `attachWs(app,
 *   server)` was given (or, if attachWs was never called for it, a server of
 *   the helper's own, attached with default options, kept for later chains);
 * - an `http.Server` / `https.Server` → over TCP: its own port if it is
 *   listening, else an ephemeral port on 127.0.0.1 for as long as a chain
 *   needs it;
 * - a URL string (`http://`, `ws://`) → over TCP to that address.
 */
import http, { type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { attachWs } from '../express/attach-ws';
import { attachmentOf } from '../express/attached-servers';
import { memorySocketPair } from './duplex-pair';

/** An Express app (4 or 5): a request handler, recognised at run time by its `handle` method. */
export type ExpressAppTarget = (req: IncomingMessage, res: ServerResponse) => unknown;

/** What `request()` accepts. */
export type RequestTarget = ExpressAppTarget | http.Server | https.Server | string;

/** How one connection is made: options for `http.request`, and the cleanup to run once it is over. */
export interface Transport {
  readonly mode: 'memory' | 'tcp';
  readonly secure: boolean;
  readonly requestOptions: RequestOptions;
  release(): Promise<void>;
}

export function isRequestTarget(value: unknown): value is RequestTarget {
  return typeof value === 'string' || isExpressApp(value) || value instanceof http.Server || value instanceof https.Server;
}

export async function openTransport(target: RequestTarget): Promise<Transport> {
  if (typeof target === 'string') return urlTransport(target);
  if (isExpressApp(target)) return memoryTransport(target);
  return serverTransport(target);
}

function isExpressApp(value: unknown): value is ExpressAppTarget {
  return typeof value === 'function' && typeof (value as { handle?: unknown }).handle === 'function';
}

// ---- in memory ----------------------------------------------------------------

const ownServers = new WeakMap<object, http.Server>();
/** For an https server: a plain HTTP front that hands its upgrades and requests over. */
const plainFronts = new WeakMap<NetServer, http.Server>();

function memoryTransport(app: ExpressAppTarget): Transport {
  let server: NetServer | undefined = attachmentOf(app)?.server;
  if (server === undefined) {
    // Never attached: attach once to a server that never listens, and keep it for the app's next chains.
    let own = ownServers.get(app);
    if (own === undefined) {
      own = http.createServer(app);
      attachWs(app as never, own);
      ownServers.set(app, own);
    }
    server = own;
  }
  const entry = server instanceof TlsServer ? plainFront(server) : server;
  return {
    mode: 'memory',
    secure: false,
    requestOptions: {
      // Host: localhost (the default port is left out of the header).
      host: 'localhost',
      port: 80,
      defaultPort: 80,
      // The server side is handed to the HTTP server as a new connection: it parses
      // the request, and its 'upgrade' listeners (attach-ws's) take it from there.
      createConnection: () => {
        const [client, serverSide] = memorySocketPair();
        entry.emit('connection', serverSide);
        return client as unknown as Socket;
      },
    },
    release: async () => {},
  };
}

/** TLS cannot be spoken over the in-memory pair: a plain HTTP server parses, the app's server answers. */
function plainFront(server: NetServer): http.Server {
  let front = plainFronts.get(server);
  if (front === undefined) {
    front = http.createServer((req, res) => server.emit('request', req, res));
    front.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => server.emit('upgrade', req, socket, head));
    plainFronts.set(server, front);
  }
  return front;
}

// ---- over TCP -------------------------------------------------------------------

function urlTransport(url: string): Transport {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  if (!secure && parsed.protocol !== 'http:' && parsed.protocol !== 'ws:') {
    throw new TypeError(`request(url): expected an http:, https:, ws: or wss: URL, got ${JSON.stringify(url)}`);
  }
  return {
    mode: 'tcp',
    secure,
    requestOptions: { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port || (secure ? 443 : 80) },
    release: async () => {},
  };
}

interface TemporaryListen {
  users: number;
  ready: Promise<AddressInfo>;
  closed: Promise<void> | null;
}

/** Servers the helper made listen, with how many chains use each. */
const temporary = new WeakMap<NetServer, TemporaryListen>();

async function serverTransport(server: http.Server | https.Server): Promise<Transport> {
  const secure = server instanceof TlsServer;
  let listen = temporary.get(server);
  if (listen === undefined && server.listening) {
    return { mode: 'tcp', secure, requestOptions: addressOptions(server.address() as AddressInfo, secure), release: async () => {} };
  }
  if (listen === undefined || listen.closed !== null) {
    const previous = listen?.closed ?? undefined;
    listen = { users: 0, closed: null, ready: startListening(server, previous) };
    temporary.set(server, listen);
  }
  listen.users++;
  const entry = listen;
  let address: AddressInfo;
  try {
    address = await entry.ready;
  } catch (err) {
    entry.users--;
    if (temporary.get(server) === entry) temporary.delete(server);
    throw err;
  }
  let released = false;
  return {
    mode: 'tcp',
    secure,
    requestOptions: addressOptions(address, secure),
    release: () => {
      if (released) return Promise.resolve();
      released = true;
      if (--entry.users > 0) return Promise.resolve();
      // The last chain on this server: stop listening, as the server was handed to us.
      entry.closed = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return entry.closed;
    },
  };
}

async function startListening(server: NetServer, previousClose: Promise<void> | undefined): Promise<AddressInfo> {
  if (previousClose !== undefined) await previousClose;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    server.once('error', failed);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', failed);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

function addressOptions(address: AddressInfo, secure: boolean): RequestOptions {
  // A server on every interface is reached through loopback.
  let host = address.address;
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  const options: RequestOptions & { rejectUnauthorized?: boolean } = { host, port: address.port };
  // The test's own server, usually with a self-signed certificate.
  if (secure) options.rejectUnauthorized = false;
  return options;
}
