import WsClient from 'ws';
import { startApp } from '../../helpers/app-server';

test('smoke', async () => {
  const running = await startApp((app) => {
    app.ws('/e', (ws) => { ws.on('message', (d, b) => ws.send(d)); });
  }, { perMessageDeflate: true });
  const c = new WsClient(`${running.url}/e`, { perMessageDeflate: true });
  await new Promise((r) => c.once('open', r));
  console.log('ext', c.extensions);
  const got: string[] = [];
  const done = new Promise<void>((r) => c.on('message', (d) => { got.push(d.toString()); if (got.length === 3) r(); }));
  c.send('x'.repeat(5000)); c.send('small'); c.send('y'.repeat(3000));
  await done;
  console.log(got.map((g) => g.length));
  c.close();
  await running.close();
});
