import type { Request } from 'express';
import v8 from 'node:v8';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useApps } from '../../helpers/app-server';
import { connectRaw } from '../../helpers/raw-client';
import { LEARN_FROM as LEARNING_UPGRADES, RequestShape } from '../../../src/express/request-shape';

// V8's own answer to "do these two objects share a hidden class". Setting the flag after start-up is
// not supported in general, but it only lets this worker parse %-intrinsics, and only this file uses them.
v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const apps = useApps();

/** Open and close one connection to `path`; resolves once the server's handler has run. */
async function upgrade(port: number, path: string): Promise<void> {
  const client = await connectRaw(port, path);
  client.destroy();
  await client.closed;
}

describe("an upgrade's request keeps one hidden class while the app's middleware adds properties to it", () => {
  test('after the first upgrades, requests whose middleware set req.user share one V8 map in the handler', async () => {
    const seen: Request[] = [];
    const { port } = await apps.start((app) => {
      app.use((req, _res, next) => {
        (req as Request & { user?: unknown }).user = { name: req.query.name };
        next();
      });
      app.ws('/chat', (ws, req) => {
        seen.push(req);
        ws.close();
      });
    });
    for (let i = 0; i < LEARNING_UPGRADES + 2; i++) await upgrade(port, `/chat?name=u${i}`);
    const [a, b] = seen.slice(-2) as [Request & { user: unknown }, Request & { user: unknown }];
    expect([a.user, b.user]).toEqual([{ name: `u${LEARNING_UPGRADES}` }, { name: `u${LEARNING_UPGRADES + 1}` }]);
    expect(haveSameMap(a, b)).toBe(true);
  });

  test('a learnt key a later upgrade reaches its route without is created for that upgrade only, never again after it', async () => {
    const owned: boolean[] = [];
    const users: unknown[] = [];
    const { port } = await apps.start((app) => {
      app.use((req, _res, next) => {
        if (req.query.name !== undefined) (req as Request & { user?: unknown }).user = req.query.name;
        next();
      });
      app.ws('/chat', (ws, req) => {
        owned.push(Object.prototype.hasOwnProperty.call(req, 'user'));
        users.push((req as Request & { user?: unknown }).user);
        ws.close();
      });
    });
    for (let i = 0; i < LEARNING_UPGRADES; i++) await upgrade(port, `/chat?name=u${i}`);
    await upgrade(port, '/chat'); // anonymous: the key was learnt, so this request still had it, unset
    await upgrade(port, '/chat'); // and no longer
    await upgrade(port, '/chat?name=late');
    expect(owned.slice(LEARNING_UPGRADES)).toEqual([true, false, true]);
    expect(users.slice(LEARNING_UPGRADES)).toEqual([undefined, undefined, 'late']);
  });

  test('a key only some upgrades get is not created ahead for the others', async () => {
    const onPlain: boolean[] = [];
    const queries: unknown[] = [];
    const { port } = await apps.start((app) => {
      app.use('/tagged', (req, _res, next) => {
        (req as Request & { tagged?: boolean }).tagged = true;
        next();
      });
      app.ws('/tagged', (ws) => ws.close());
      app.ws('/plain', (ws, req) => {
        onPlain.push(Object.prototype.hasOwnProperty.call(req, 'tagged'));
        queries.push(req.query.n);
        ws.close();
      });
    });
    for (let i = 0; i < LEARNING_UPGRADES + 4; i++) await upgrade(port, i % 2 === 0 ? '/tagged' : `/plain?n=${i}`);
    expect(onPlain).toEqual(new Array((LEARNING_UPGRADES + 4) / 2).fill(false));
    expect(queries).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19].map(String));
  });
});

/** Express's part, by hand: swap the prototype of `req` as app.handle does, then run "middleware". */
function routed(shape: RequestShape, proto: object, middleware: (req: Record<string, unknown>) => void): Record<string, unknown> {
  const req = { method: 'GET', url: '/', headers: {} } as unknown as IncomingMessage;
  shape.prepare(req, {} as ServerResponse);
  Object.setPrototypeOf(req, proto);
  middleware(req as unknown as Record<string, unknown>);
  shape.observe(req);
  return req as unknown as Record<string, unknown>;
}

describe('what the request shape learns', () => {
  test("never a key a prototype of req defines, even one every upgrade's middleware sets as its own property", () => {
    const shape = new RequestShape();
    // Express 5's req.query is a getter on app.request; a common workaround defines an own value over it.
    const appRequest = Object.defineProperty({}, 'query', { get: () => ({ from: 'getter' }), configurable: true });
    const middleware = (req: Record<string, unknown>) => {
      Object.defineProperty(req, 'query', { value: { from: 'own' }, writable: true, configurable: true, enumerable: true });
      req.user = 'someone';
    };
    for (let i = 0; i < LEARNING_UPGRADES; i++) routed(shape, appRequest, middleware);
    const next = routed(shape, appRequest, () => {});
    expect(Object.prototype.hasOwnProperty.call(next, 'query')).toBe(false);
    expect(next.query).toEqual({ from: 'getter' });
    expect(Object.prototype.hasOwnProperty.call(next, 'user')).toBe(true); // learnt, and (unset here) dropped from now on
    expect(Object.prototype.hasOwnProperty.call(routed(shape, appRequest, () => {}), 'user')).toBe(false);
  });

  test('a learnt key a prototype comes to define later (a sub-app, an extension of app.request) stops being created', () => {
    const shape = new RequestShape();
    const appRequest: Record<string, unknown> = {};
    for (let i = 0; i < LEARNING_UPGRADES; i++) routed(shape, appRequest, (req) => (req.tenant = 'a'));
    const subApp = Object.defineProperty({}, 'tenant', { get: () => 'from the sub-app', configurable: true });
    routed(shape, subApp, () => {});
    const after = routed(shape, subApp, () => {});
    expect(after.tenant).toBe('from the sub-app');
  });
});
