import type { Express } from 'express';
import type { AttachWsOptions, WsServer } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { RawConnection, upgradeRequestFor } from './support';

/**
 * Code that runs inside the `upgrade` listener — an `origins` predicate, a
 * `handleProtocols`, Express itself — may throw. Whatever it throws ends as an
 * HTTP answer on that socket (403 for an origin predicate, 500 otherwise), the
 * socket is closed, and the error reaches `wss.on('error')`. Nothing reaches
 * `process` (an uncaught exception would fail this file).
 */
const apps = useApps();

async function refusal(port: number, extra: string[]) {
  const conn = await RawConnection.open(port);
  apps.track(() => conn.destroy());
  conn.write(upgradeRequestFor('/chat', extra));
  const response = await conn.readResponse();
  const rest = await conn.readToEnd(); // the server closes the connection after its answer
  return { ...response, rest };
}

async function start(setup: (app: Express, wss: WsServer) => void, options: AttachWsOptions) {
  const errors: Error[] = [];
  const handled: string[] = [];
  const running = await apps.start((app, wss) => {
    wss.on('error', (err) => errors.push(err));
    setup(app, wss);
    app.ws('/chat', (ws) => {
      handled.push('handler');
      ws.close();
    });
  }, options);
  return { running, errors, handled };
}

test('an origins predicate that throws refuses the upgrade with 403 and reports the error', async () => {
  const boom = new Error('origin predicate failed');
  const { running, errors, handled } = await start(() => undefined, {
    origins: () => {
      throw boom;
    },
  });
  const res = await refusal(running.port, ['Origin: http://app.example']);
  expect(res.status).toBe(403);
  expect(res.rest).toBe('');
  expect(errors).toEqual([boom]);
  expect(handled).toEqual([]);
});

test('a server handleProtocols that throws is answered 500 and the error is reported', async () => {
  const boom = new Error('handleProtocols failed');
  const { running, errors, handled } = await start(() => undefined, {
    handleProtocols: () => {
      throw boom;
    },
  });
  const res = await refusal(running.port, ['Sec-WebSocket-Protocol: chat.v1']);
  expect(res.status).toBe(500);
  expect(res.body.toString()).toBe('the upgrade failed on the server');
  expect(errors).toEqual([boom]);
  expect(handled).toEqual([]);
});

test('a route handleProtocols that throws is answered 500 and the error is reported', async () => {
  const boom = new Error('route handleProtocols failed');
  const errors: Error[] = [];
  const running = await apps.start((app, wss) => {
    wss.on('error', (err) => errors.push(err));
    app.ws(
      '/chat',
      {
        handleProtocols: () => {
          throw boom;
        },
      },
      () => undefined,
    );
  });
  const res = await refusal(running.port, ['Sec-WebSocket-Protocol: chat.v1']);
  expect(res.status).toBe(500);
  expect(errors).toEqual([boom]);
});

test('an exception thrown by Express itself while dispatching is answered 500 and reported', async () => {
  const boom = new Error('express internals failed');
  const { running, errors, handled } = await start((app) => {
    // Stands for any failure inside the app's dispatch that Express does not turn into next(err).
    (app as unknown as { handle: () => never }).handle = () => {
      throw boom;
    };
  }, {});
  const res = await refusal(running.port, []);
  expect(res.status).toBe(500);
  expect(errors).toEqual([boom]);
  expect(handled).toEqual([]);
});

test('a non-Error thrown inside the upgrade path is reported as an Error, not lost', async () => {
  const { running, errors } = await start(() => undefined, {
    handleProtocols: () => {
      throw 'a string'; // eslint-disable-line no-throw-literal
    },
  });
  const res = await refusal(running.port, ['Sec-WebSocket-Protocol: chat.v1']);
  expect(res.status).toBe(500);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toContain('a string');
});
