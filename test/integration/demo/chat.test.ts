/**
 * The demo chat (demo/app.js) over real sockets, with the `ws` client and
 * supertest: rooms, history, typing, the JSON protocol's errors, and the
 * Express middleware that refuses upgrades with real HTTP statuses.
 */
import request from 'supertest';
import { attachWs } from 'attach-ws';
import { createChatApp, type ChatApp } from '../../../demo/app';
import { ChatClient, refusedUpgrade, type ServerMessage } from './chat-client';

const HISTORY = 3;
const MAX_TEXT = 100;
const MAX_PAYLOAD = 4 * 1024;
const MAX_ERRORS = 8;

let chat: ChatApp;
let url: string;
let wsBase: string;
const open: ChatClient[] = [];

beforeAll(async () => {
  chat = createChatApp({ attachWs, historySize: HISTORY, maxTextLength: MAX_TEXT, maxPayload: MAX_PAYLOAD, maxErrors: MAX_ERRORS });
  url = await chat.listen(0, '127.0.0.1');
  wsBase = url.replace(/^http/, 'ws');
});

afterEach(() => {
  for (const client of open.splice(0)) client.terminate();
});

afterAll(async () => {
  await chat.close();
});

/** Join `room` as `nick` and return the client with its welcome message. */
async function join(room: string, nick: string): Promise<{ client: ChatClient; welcome: ServerMessage }> {
  const client = await ChatClient.open(`${wsBase}/chat/${room}?nick=${encodeURIComponent(nick)}`);
  open.push(client);
  const welcome = await client.next('welcome');
  return { client, welcome };
}

describe('plain HTTP next to the WebSocket routes', () => {
  it('answers /healthz with 200 and a JSON status that counts WebSocket clients', async () => {
    const before = await request(url).get('/healthz').expect(200);
    expect(before.body).toMatchObject({ status: 'ok', websocket: { clients: 0 } });
    await join('health', 'nurse');
    const during = await request(url).get('/healthz').expect(200);
    expect(during.body.websocket.clients).toBe(1);
  });

  it('serves the page at / and at /r/:room with a content security policy', async () => {
    for (const page of ['/', '/r/tea']) {
      const res = await request(url).get(page).expect(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.text).toContain('/chat.js');
    }
    await request(url).get('/chat.js').expect(200).expect('content-type', /javascript/);
  });

  it('answers a plain GET /chat/:room with the room as JSON (the upgrade route never sees it)', async () => {
    const res = await request(url).get('/chat/plain-http').expect(200);
    expect(res.body).toEqual({ room: 'plain-http', members: [], history: [] });
  });

  it('sets the nickname cookie on POST /session, refuses an invalid nickname with 400, and reads no nickname as null', async () => {
    const res = await request(url).post('/session').send({ nick: 'Zoë' }).expect(200);
    expect(res.headers['set-cookie']?.[0]).toMatch(/^nick=Zo%C3%AB;.*HttpOnly/);
    await request(url).post('/session').send({ nick: '<script>' }).expect(400);
    await request(url).post('/session').send({}).expect(400);
    // No nickname yet is a normal state (a first visit), not an error.
    await request(url).get('/session').expect(200, { nick: null });
    await request(url).get('/session').set('Cookie', 'nick=Zo%C3%AB').expect(200, { nick: 'Zoë' });
  });
});

describe('the upgrade runs through Express middleware', () => {
  it('refuses an upgrade without a nickname with a real 401 from the middleware', async () => {
    const { status, body } = await refusedUpgrade(`${wsBase}/chat/lobby`);
    expect(status).toBe(401);
    expect(body).toContain('nickname');
  });

  it('refuses an invalid nickname with 401', async () => {
    expect((await refusedUpgrade(`${wsBase}/chat/lobby?nick=${encodeURIComponent('a<b>')}`)).status).toBe(401);
    expect((await refusedUpgrade(`${wsBase}/chat/lobby?nick=${'x'.repeat(25)}`)).status).toBe(401);
  });

  it('accepts the nickname from the cookie the page sets', async () => {
    const client = await ChatClient.open(`${wsBase}/chat/lobby`, { headers: { Cookie: 'nick=cookie-monster' } });
    open.push(client);
    expect(await client.next('welcome')).toMatchObject({ nick: 'cookie-monster', room: 'lobby' });
  });

  it('refuses a page from another origin with 403, and accepts its own origin', async () => {
    const host = new URL(url).host;
    expect((await refusedUpgrade(`${wsBase}/chat/lobby?nick=eve`, { origin: 'http://evil.example' })).status).toBe(403);
    const client = await ChatClient.open(`${wsBase}/chat/lobby?nick=ann`, { origin: `http://${host}` });
    open.push(client);
    await client.next('welcome');
  });

  it('refuses an invalid room name with 400', async () => {
    expect((await refusedUpgrade(`${wsBase}/chat/${'r'.repeat(40)}?nick=ann`)).status).toBe(400);
  });
});

describe('rooms', () => {
  it('keeps messages in their room', async () => {
    const alice = await join('kitchen', 'alice');
    const bob = await join('kitchen', 'bob');
    const carol = await join('garden', 'carol');
    expect(bob.welcome.members).toEqual(['alice', 'bob']);
    expect(carol.welcome.members).toEqual(['carol']);
    expect(await alice.client.next('join')).toMatchObject({ nick: 'bob', members: ['alice', 'bob'] });

    alice.client.say('tea is ready');
    expect(await bob.client.next('message')).toMatchObject({ nick: 'alice', text: 'tea is ready' });
    expect(await alice.client.next('message')).toMatchObject({ nick: 'alice', text: 'tea is ready' });

    // Carol's next message is her own: nothing from the kitchen came first.
    carol.client.say('roses are out');
    expect(await carol.client.next('message')).toMatchObject({ nick: 'carol', text: 'roses are out' });
    expect(carol.client.peek('message')).toEqual([]);
    expect(carol.client.peek('join')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alice.client.peek('message')).toEqual([]);
    expect(bob.client.peek('message')).toEqual([]);
  });

  it('announces who leaves to the others in the room', async () => {
    const alice = await join('hall', 'alice');
    const bob = await join('hall', 'bob');
    await alice.client.next('join');
    bob.client.socket.close(1000);
    expect(await alice.client.next('leave')).toMatchObject({ nick: 'bob', members: ['alice'] });
  });

  it(`replays the last ${HISTORY} messages of the room to whoever joins`, async () => {
    const alice = await join('library', 'alice');
    for (let i = 1; i <= HISTORY + 2; i++) alice.client.say(`line ${i}`);
    for (let i = 1; i <= HISTORY + 2; i++) await alice.client.next('message');

    const late = await join('library', 'late');
    const history = late.welcome.history as ServerMessage[];
    expect(history.map((m) => m.text)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(history.map((m) => m.id)).toEqual([3, 4, 5]);

    const elsewhere = await join('attic', 'late');
    expect(elsewhere.welcome.history).toEqual([]);
  });

  it('relays typing to the others in the room but not back to the typist', async () => {
    const alice = await join('study', 'alice');
    const bob = await join('study', 'bob');
    alice.client.json({ type: 'typing', typing: true });
    expect(await bob.client.next('typing')).toEqual({ type: 'typing', nick: 'alice', typing: true });
    alice.client.json({ type: 'typing', typing: false });
    expect(await bob.client.next('typing')).toEqual({ type: 'typing', nick: 'alice', typing: false });
    alice.client.say('done');
    await alice.client.next('message');
    expect(alice.client.peek('typing')).toEqual([]);
  });
});

describe('the JSON protocol refuses bad input without crashing', () => {
  const cases: Array<[string, string | Buffer, string]> = [
    ['invalid JSON', '{"type": "say", ', 'invalid_json'],
    ['a binary frame where JSON text is expected', Buffer.from('{"type":"say","text":"hi"}'), 'binary_not_supported'],
    ['an unknown type', '{"type":"shout","text":"HI"}', 'unknown_type'],
    ['JSON that is not an object', '[1,2,3]', 'bad_message'],
    ['an object without a type', '{"text":"hi"}', 'bad_message'],
    ['"say" without text', '{"type":"say"}', 'bad_message'],
    ['"say" with blank text', '{"type":"say","text":"   "}', 'bad_message'],
    ['"typing" without a boolean', '{"type":"typing","typing":"yes"}', 'bad_message'],
    ['a message over the length limit', JSON.stringify({ type: 'say', text: 'x'.repeat(MAX_TEXT + 1) }), 'too_long'],
  ];

  it.each(cases)('answers %s with an error message and stays open', async (_what, frame, code) => {
    const { client } = await join('errors', 'tester');
    client.socket.send(frame);
    const error = await client.next('error');
    expect(error).toMatchObject({ type: 'error', code });
    expect(typeof error.message).toBe('string');
    // Still connected and still chatting.
    client.say('still here');
    expect(await client.next('message')).toMatchObject({ text: 'still here' });
  });

  it('accepts a message of exactly the limit, counted in characters', async () => {
    const { client } = await join('errors', 'tester');
    client.say('é'.repeat(MAX_TEXT));
    expect(await client.next('message')).toMatchObject({ text: 'é'.repeat(MAX_TEXT) });
  });

  it(`closes with 1008 after ${MAX_ERRORS} bad messages`, async () => {
    const { client } = await join('errors', 'spammer');
    for (let i = 0; i < MAX_ERRORS; i++) client.socket.send('not json');
    expect(await client.closed).toEqual({ code: 1008, reason: 'too many invalid messages' });
  });

  it('closes with 1009 when a frame is over maxPayload', async () => {
    const { client } = await join('errors', 'flooder');
    client.say('x'.repeat(MAX_PAYLOAD + 1));
    expect((await client.closed).code).toBe(1009);
    const { client: other } = await join('errors', 'survivor');
    other.say('server is fine');
    expect(await other.next('message')).toMatchObject({ text: 'server is fine' });
  });
});

describe('shutdown', () => {
  it('closes every chat client with 1001 and stops listening', async () => {
    const own = createChatApp({ attachWs });
    const ownUrl = await own.listen(0, '127.0.0.1');
    const client = await ChatClient.open(`${ownUrl.replace(/^http/, 'ws')}/chat/lobby?nick=last`);
    open.push(client);
    await client.next('welcome');
    await own.close();
    expect((await client.closed).code).toBe(1001);
    expect(own.server.listening).toBe(false);
  });
});
