import type { Socket } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { WebSocket } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { connectRaw, type RawClient } from '../../helpers/raw-client';
import { Opcode } from '../../../src/codec/opcodes';

// A full, synchronous GC without starting node with --expose-gc.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Let the current job end: WeakRefs keep their target alive until then. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

type HttpSocket = Socket & { parser?: unknown; _httpMessage?: unknown };

describe('after the handshake, an idle connection keeps none of the HTTP request', () => {
  const apps = useApps();

  it('leaves the IncomingMessage, the ServerResponse and the HTTP parser unreachable once the connection is open', async () => {
    const refs: { req?: WeakRef<object>; res?: WeakRef<object> } = {};
    const open: WebSocket[] = [];
    const serverSockets: HttpSocket[] = [];
    const { server, port } = await apps.start((app) => {
      // A middleware that runs for the upgrade, as an app's session or auth would.
      app.use((req, res, next) => {
        refs.req = new WeakRef(req);
        refs.res = new WeakRef(res);
        res.setHeader('X-Seen', 'yes');
        next();
      });
      app.ws('/idle', (ws) => {
        open.push(ws); // the connection stays open and referenced, as in a real server
        ws.on('message', (data) => ws.send(data));
      });
    });
    server.on('connection', (socket: HttpSocket) => serverSockets.push(socket));

    const client: RawClient = await connectRaw(port, '/idle');
    apps.track(() => client.destroy());
    expect(open).toHaveLength(1);
    expect(refs.req?.deref()).toBeDefined(); // the middleware did see this upgrade

    await nextTurn();
    gc();

    // The connection's own objects live; the HTTP objects of its handshake do not.
    // (Booleans: a failure should not print the whole request graph.)
    expect({ requestAlive: refs.req?.deref() !== undefined, responseAlive: refs.res?.deref() !== undefined }).toEqual({
      requestAlive: false,
      responseAlive: false,
    });
    expect(serverSockets).toHaveLength(1);
    const socket = serverSockets[0]!;
    expect({ parser: socket.parser != null, httpMessage: socket._httpMessage != null }).toEqual({
      parser: false,
      httpMessage: false,
    });

    // And it still works.
    client.sendFrame(Opcode.Text, 'still here');
    const echo = await client.nextFrame();
    expect(echo.payload.toString()).toBe('still here');
  });
});
