import WsClient from 'ws';
import { useApps } from '../helpers/app-server';

const apps = useApps();

test('the ws client exchanges text and binary messages with an echo route', async () => {
  const running = await apps.start((app) => {
    app.ws('/echo', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  const client = new WsClient(`${running.url}/echo`);
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  const replies: Array<[string, boolean]> = [];
  const done = new Promise<void>((resolve) =>
    client.on('message', (data, isBinary) => {
      replies.push([data.toString(), isBinary]);
      if (replies.length === 2) resolve();
    }),
  );
  client.send('hello');
  client.send(Buffer.from('bytes'));
  await done;
  expect(replies).toEqual([
    ['hello', false],
    ['bytes', true],
  ]);
  const closed = new Promise<[number, string]>((resolve) => client.once('close', (code, reason) => resolve([code, reason.toString()])));
  client.close(1000, 'bye');
  // §5.5.1: the server echoes the status code.
  expect((await closed)[0]).toBe(1000);
});
