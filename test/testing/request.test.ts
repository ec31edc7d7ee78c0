/**
 * attach-ws/testing: the chain passes on the behaviour it describes, fails
 * with a message that says what was expected and what arrived, and leaves
 * no connection or listener behind either way.
 */
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachWs } from 'attach-ws';
import { request, WsTestError } from 'attach-ws/testing';
import { echoApp } from './fixtures';

/** The chain's rejection, for assertions on its message and code. */
async function failure(chain: PromiseLike<void>): Promise<WsTestError> {
  try {
    await chain;
  } catch (err) {
    if (err instanceof WsTestError) return err;
    throw err;
  }
  throw new Error('the chain passed');
}

describe('in memory, on an Express app whose server never listens', () => {
  test('runs the upgrade through the middleware, exchanges every kind of message and closes with the handshake', async () => {
    const { app, server, closes } = echoApp();
    await request(app)
      .ws('/private/welcome')
      .set('Cookie', 'nick=ann')
      .expectJson({ type: 'welcome', cookie: 'nick=ann', ip: '127.0.0.1' })
      .sendJson({ type: 'say', text: 'hi' })
      .expectText(/"text":"hi"/)
      .close(1000, 'bye')
      // §5.5.1: the server echoes the status code (not necessarily the reason).
      .expectClosed(1000);
    await request(app)
      .ws('/echo')
      .sendBinary(Buffer.from([1, 2]))
      .expectBinary((b) => b.length === 2)
      .sendText('plain')
      .expectText('plain')
      .ping('are you there')
      .expectPong('are you there')
      .close(1000)
      .expectClosed(1000);
    expect(server.listening).toBe(false);
    expect(await Promise.all(closes)).toEqual([1000, 1000]);
  });

  test('works on an app attachWs was never called for (the helper attaches it)', async () => {
    const app = express();
    app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
    await request(app).ws('/echo').sendText('one').expectText('one');
    // The next chain on the same app goes through the same attachment.
    await request(app).ws('/echo').sendText('two').expectText('two');
  });

  test("answers a refused upgrade's expectConnectionError with the middleware's real status and body", async () => {
    const { app } = echoApp();
    await request(app).ws('/private/welcome').expectConnectionError(401);
    await request(app).ws('/private/welcome').expectConnectionError(401, 'who are you?');
    await request(app).ws('/private/welcome').expectConnectionError(401, /who/);
    await request(app).ws('/nowhere').expectConnectionError(404);
  });

  test("takes Jest's asymmetric matchers inside expectJson", async () => {
    const { app } = echoApp();
    await request(app)
      .ws('/private/welcome')
      .set({ Cookie: 'nick=ann' })
      .expectJson(expect.objectContaining({ type: 'welcome', ip: expect.any(String) }));
  });

  test('sends a message in fragments with send(data, { fin: false })', async () => {
    const { app } = echoApp();
    await request(app).ws('/echo').send('hel', { fin: false }).send('lo').expectText('hello');
  });

  test('answers the server’s pings by itself and lets the test expect them', async () => {
    const { app } = echoApp();
    await request(app).ws('/heartbeat').expectPing('hb').expectText('pong hb');
  });

  test('reads the server’s close code and reason after the messages before it', async () => {
    const { app, closes } = echoApp();
    await request(app).ws('/kick').expectText('go away').expectClosed(4001, 'kicked');
    expect(await closes[0]).toBe(4001);
  });

  test('offers subprotocols and shows the 101 response to expectUpgrade', async () => {
    const app = express();
    const server = http.createServer(app);
    attachWs(app, server, { protocols: ['chat.v2', 'chat.v1'] });
    app.ws('/p', (ws) => ws.send(ws.protocol));
    await request(app)
      .ws('/p', ['chat.v1', 'chat.v2'])
      .expectUpgrade((res) => res.status === 101 && res.headers['sec-websocket-protocol'] === 'chat.v2')
      .expectText('chat.v2')
      .exec((socket) => expect(socket.protocol).toBe('chat.v2'));
  });

  test('closes the connection when a chain ends without closing it', async () => {
    const { app, wss, closes } = echoApp();
    await request(app).ws('/echo').sendText('x').expectText('x');
    expect(await closes[0]).toBe(1000);
    expect(wss.clients.size).toBe(0);
  });
});

describe('raw frames', () => {
  test('a fragmented text message interrupted by a new one is refused with 1002', async () => {
    const { app } = echoApp();
    await request(app)
      .ws('/echo')
      .sendFrame({ opcode: 1, fin: false, payload: 'a' })
      .sendFrame({ opcode: 1, payload: 'b' })
      .expectClosed(1002);
  });

  test('frames are masked unless told not to, and an unmasked one is refused with 1002 (RFC 6455 §5.1)', async () => {
    const { app } = echoApp();
    await request(app).ws('/echo').sendFrame({ opcode: 1, payload: 'masked' }).expectText('masked');
    await request(app).ws('/echo').sendFrame({ opcode: 1, payload: 'bare', mask: false }).expectClosed(1002);
  });

  test('expectFrame sees the frames as sent, the close frame included', async () => {
    const { app } = echoApp();
    const closeBody = Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('kicked')]);
    await request(app)
      .ws('/kick')
      .expectFrame({ opcode: 1, fin: true, rsv1: false, masked: false, payload: 'go away' })
      .expectFrame({ opcode: 8, payload: closeBody })
      .expectClosed(4001);
  });

  test('RSV2 without an extension is refused with 1002, and sendRaw writes bytes as they are', async () => {
    const { app } = echoApp();
    await request(app).ws('/echo').sendFrame({ opcode: 1, rsv2: true, payload: 'x' }).expectClosed(1002);
    // A masked ping with a 126-byte payload: control frames carry at most 125 (§5.5).
    const header = Buffer.from([0x89, 0xfe, 0x00, 0x7e, 0, 0, 0, 0]);
    await request(app).ws('/echo').sendRaw(Buffer.concat([header, Buffer.alloc(126)])).expectClosed(1002);
  });
});

describe('over TCP, on an http.Server', () => {
  test('listens on an ephemeral port for the chain and closes the listener afterwards, passed or failed', async () => {
    const { server } = echoApp();
    let port = 0;
    await request(server)
      .ws('/echo')
      .exec(() => {
        expect(server.listening).toBe(true);
        port = (server.address() as AddressInfo).port;
      })
      .sendText('tcp')
      .expectText('tcp');
    expect(port).toBeGreaterThan(0);
    expect(server.listening).toBe(false);
    await failure(request(server, { timeout: 100 }).ws('/silent').expectText('never'));
    expect(server.listening).toBe(false);
  });

  test('shares one temporary listener between chains that run at the same time', async () => {
    const { server } = echoApp();
    await Promise.all([
      request(server).ws('/echo').sendText('a').expectText('a'),
      request(server).ws('/echo').sendText('b').expectText('b'),
    ]);
    expect(server.listening).toBe(false);
  });

  test('uses a server that already listens, and leaves it listening', async () => {
    const { server } = echoApp();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await request(server).ws('/private/welcome').set('Cookie', 'nick=ann').expectJson(expect.objectContaining({ type: 'welcome' }));
      await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).ws('/echo').sendText('url').expectText('url');
      expect(server.listening).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('failure messages say what was expected and what arrived', () => {
  test('a different text message', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/echo').sendText('hello').expectText('goodbye'));
    expect(err.message).toBe('expectText("goodbye"): expected the text message "goodbye", got a text message "hello"');
    expect(err.code).toBe('WS_TEST_MISMATCH');
    expect(err.step).toBe('expectText("goodbye")');
  });

  test('binary where text was expected, and text where binary was', async () => {
    const { app } = echoApp();
    const asText = await failure(request(app).ws('/echo').sendBinary([1, 2, 3]).expectText());
    expect(asText.message).toBe('expectText(): expected a text message, got a binary message <01 02 03> (3 bytes)');
    const asBinary = await failure(request(app).ws('/echo').sendText('t').expectBinary([0x74]));
    expect(asBinary.message).toBe('expectBinary([ 116 ]): expected the binary message <74> (1 byte), got a text message "t"');
  });

  test('JSON that differs, and text that is not JSON', async () => {
    const { app } = echoApp();
    const differs = await failure(request(app).ws('/echo').sendJson({ type: 'error' }).expectJson({ type: 'welcome' }));
    expect(differs.message).toBe("expectJson({ type: 'welcome' }): expected the JSON message { type: 'welcome' }, got { type: 'error' }");
    const notJson = await failure(request(app).ws('/echo').sendText('not json').expectJson());
    expect(notJson.message).toMatch(/^expectJson\(\): expected a JSON message, got a text message "not json", which is not JSON \(/);
  });

  test('a predicate that returns false or throws', async () => {
    const { app } = echoApp();
    const returned = await failure(request(app).ws('/echo').sendText('abc').expectText((t) => t.length > 5));
    expect(returned.message).toBe('expectText([predicate]): expected a text message passing the predicate, got a text message "abc" (the predicate returned false)');
    const threw = await failure(
      request(app)
        .ws('/echo')
        .sendText('abc')
        .expectText((t) => expect(t).toBe('xyz')),
    );
    expect(threw.message).toContain('the predicate threw: expect(received).toBe(expected)');
  });

  test('a message expected but the server closed, with its code and reason', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/kick').expectText('go away').expectText('more'));
    expect(err.message).toBe('expectText("more"): expected the text message "more", but the server closed the connection with 4001 "kicked"');
    expect(err.code).toBe('WS_TEST_CLOSED');
  });

  test('a different close code or reason', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/kick').expectClosed(1000));
    expect(err.message).toBe('expectClosed(1000): expected the connection to close with 1000, but the server closed the connection with 4001 "kicked"');
    const reason = await failure(request(app).ws('/kick').expectClosed(4001, 'banned'));
    expect(reason.message).toBe('expectClosed(4001, "banned"): expected the connection to close with 4001 "banned", but the server closed the connection with 4001 "kicked"');
  });

  test('a step that times out names its timeout, and what arrived unread', async () => {
    const { app } = echoApp();
    const err = await failure(request(app, { timeout: 100 }).ws('/silent').expectText('hello'));
    expect(err.message).toBe('expectText("hello"): expected the text message "hello" within 100 ms, but none arrived');
    expect(err.code).toBe('WS_TEST_TIMEOUT');
    const own = await failure(request(app).ws('/heartbeat').expectPing().expectPong(undefined, { timeout: 50 }));
    expect(own.message).toBe('expectPong(): expected a pong within 50 ms, but none arrived (received meanwhile, unread: a text message "pong hb")');
    const open = await failure(request(app).ws('/silent').expectClosed(1000, undefined, { timeout: 50 }));
    expect(open.message).toBe('expectClosed(1000): expected the connection to close with 1000 within 50 ms, but it is still open');
  });

  test('a refused upgrade where a connection was expected shows the status and body', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/private/welcome').expectJson());
    expect(err.message).toBe('ws("/private/welcome"): the upgrade was refused with 401 Unauthorized, body "who are you?"');
    expect(err.code).toBe('WS_TEST_UPGRADE');
  });

  test('an accepted upgrade, or another status, where a refusal was expected', async () => {
    const { app } = echoApp();
    const accepted = await failure(request(app).ws('/echo').expectConnectionError(401));
    expect(accepted.message).toBe('expectConnectionError(401): expected the upgrade to be refused with 401, but the server accepted it (101 Switching Protocols)');
    const other = await failure(request(app).ws('/nowhere').expectConnectionError(401));
    expect(other.message).toMatch(/^expectConnectionError\(401\): expected the upgrade to be refused with 401, but it was refused with 404 Not Found/);
    const body = await failure(request(app).ws('/private/welcome').expectConnectionError(401, 'go away'));
    expect(body.message).toBe('expectConnectionError(401, "go away"): expected a refusal body "go away", but it was refused with 401 Unauthorized, body "who are you?"');
  });

  test('a frame that differs shows its fields', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/kick').expectFrame({ opcode: 2 }));
    expect(err.message).toBe('expectFrame({ opcode: 2 }): expected a frame with opcode=0x2 (binary), got a frame fin=1 rsv=000 opcode=0x1 (text) payload "go away" <67 6f 20 61 77 61 79> (7 bytes)');
  });

  test('points its stack at the line of the test that added the failing step', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/echo').sendText('a').expectText('b'));
    expect(err.stack?.split('\n')[1]).toContain('request.test.ts');
    // A refused upgrade points at the ws(...) call.
    const refused = await failure(request(app).ws('/private/welcome').expectText());
    expect(refused.stack?.split('\n')[1]).toContain('request.test.ts');
  });

  test('a close code that may not be sent is a usage error, and the chain still cleans up', async () => {
    const { app, closes } = echoApp();
    const err = await failure(request(app).ws('/echo').close(1005));
    expect(err.message).toBe('close(1005): close code 1005 may not be sent');
    expect(err.code).toBe('WS_TEST_USAGE');
    expect(await closes[0]).toBe(1000);
  });

  test('a failing chain closes its connection too', async () => {
    const { app, wss, closes } = echoApp();
    await failure(request(app).ws('/echo').sendText('a').expectText('b'));
    expect(await closes[0]).toBe(1000);
    expect(wss.clients.size).toBe(0);
  });
});

describe('usage', () => {
  test('expectConnectionError must be alone in its chain', async () => {
    const { app } = echoApp();
    const err = await failure(request(app).ws('/echo').sendText('a').expectConnectionError());
    expect(err.message).toBe('expectConnectionError(): expectConnectionError must be the only step of its chain');
  });

  test('steps cannot be added once the chain runs', async () => {
    const { app } = echoApp();
    const chain = request(app).ws('/echo').sendText('a').expectText('a');
    const running = chain.then();
    expect(() => chain.sendText('late')).toThrow('the chain is already running');
    await running;
  });

  test('refuses a target it cannot connect to, and bad options', () => {
    expect(() => request({} as never)).toThrow(TypeError);
    expect(() => request(express(), { timeout: 0 })).toThrow(RangeError);
    expect(() => request(express()).ws('no-slash')).toThrow(TypeError);
  });
});

describe('edge cases', () => {
  test('unset removes a header the helper sends, so a test can check the refusal', async () => {
    const { app } = echoApp();
    await request(app).ws('/echo').unset('Sec-WebSocket-Key').expectConnectionError(400);
  });

  test('a connection dropped without a close frame counts as 1006', async () => {
    const app = express();
    app.ws('/drop', (ws) => ws.on('message', () => ws.terminate()));
    await request(app).ws('/drop').sendText('bye').expectClosed(1006);
    const err = await failure(request(app).ws('/drop').sendText('bye').expectText());
    expect(err.message).toBe('expectText(): expected a text message, but the connection was dropped without a close frame (1006)');
  });

  test("a message over the test client's maxPayload fails the chain and says so", async () => {
    const app = express();
    app.ws('/big', (ws) => ws.send(Buffer.alloc(2048)));
    const err = await failure(request(app, { maxPayload: 1024 }).ws('/big').expectBinary());
    expect(err.message).toMatch(/^expectBinary\(\): expected a binary message, but the server sent a message over the test client's maxPayload of 1024 bytes/);
  });

  test('exec and wait run in order, and exec has a timeout too', async () => {
    const { app } = echoApp();
    const order: string[] = [];
    await request(app)
      .ws('/echo')
      .exec(() => order.push('exec'))
      .wait(1)
      .exec(async (socket) => {
        order.push('async exec');
        socket.send('from exec');
      })
      .expectText('from exec');
    expect(order).toEqual(['exec', 'async exec']);
    const err = await failure(request(app).ws('/echo').exec(() => new Promise(() => {}), { timeout: 50 }));
    expect(err.message).toBe('exec(): the function did not settle within 50 ms');
  });
});
