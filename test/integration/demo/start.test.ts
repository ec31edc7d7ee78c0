/**
 * `npm start` as a newcomer runs it: `node demo/start.js` on the built package
 * (dist/, which `npm ci` builds through `prepare`). It prints its URL, serves
 * the page and /healthz, chats, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { ChatClient } from './chat-client';

const START = path.resolve(__dirname, '../../../demo/start.js');

let child: ChildProcessWithoutNullStreams | undefined;
let output = '';

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

/** Start demo/start.js on a free port; resolve with the URL it prints. */
function start(): Promise<string> {
  output = '';
  const proc = spawn(process.execPath, [START], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' } });
  child = proc;
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /chat on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve(url);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) =>
      reject(new Error(`demo/start.js exited with ${code} before listening (is dist/ built? \`npm run build\`):\n${output}`)),
    );
  });
}

function exited(proc: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

it('prints its URL, serves the page and /healthz, chats, and closes clients with 1001 on SIGTERM', async () => {
  const url = await start();
  await request(url).get('/healthz').expect(200);
  await request(url).get('/').expect(200).expect('content-type', /text\/html/);

  const client = await ChatClient.open(`${url.replace(/^http/, 'ws')}/chat/lobby?nick=newcomer`);
  await client.next('welcome');
  client.say('hello from npm start');
  expect(await client.next('message')).toMatchObject({ nick: 'newcomer', text: 'hello from npm start' });

  const proc = child!;
  proc.kill('SIGTERM');
  expect((await client.closed).code).toBe(1001);
  expect(await exited(proc)).toBe(0);
  expect(output).toContain('newcomer joined #lobby');
});
