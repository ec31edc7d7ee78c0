import type { Request } from 'express';
import v8 from 'node:v8';
import { useApps } from '../../helpers/app-server';
import { connectRaw } from '../../helpers/raw-client';

// V8's own answer to "do these two objects share a hidden class", without starting node with a flag.
v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** attach-ws learns an app's request shape from this many upgrades (src/express/request-shape.ts LEARN_FROM). */
const LEARNING_UPGRADES = 16;

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

  test('a middleware that runs before the one setting a learnt key sees it unset, and every upgrade gets its own value', async () => {
    const before: unknown[] = [];
    const inHandler: Array<[unknown, unknown]> = [];
    const { port } = await apps.start((app) => {
      app.use((req, _res, next) => {
        before.push((req as Request & { user?: unknown }).user);
        next();
      });
      app.use((req, _res, next) => {
        (req as Request & { user?: unknown }).user = req.query.name;
        next();
      });
      app.ws('/chat', (ws, req) => {
        inHandler.push([(req as Request & { user?: unknown }).user, req.query.name]);
        ws.close();
      });
    });
    for (let i = 0; i < LEARNING_UPGRADES + 4; i++) await upgrade(port, `/chat?name=u${i}`);
    expect(before).toEqual(new Array(LEARNING_UPGRADES + 4).fill(undefined));
    expect(inHandler.every(([user, name]) => user === name)).toBe(true);
  });

  test('a key only some upgrades get is not created ahead for the others, and Express 5 keeps its req.query getter', async () => {
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
