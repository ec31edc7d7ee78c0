import { useApps } from '../helpers/app-server';
import { connectRaw } from '../helpers/raw-client';
import { RawConnection, upgradeRequestFor } from './support';

/**
 * The integration side of linear-time header parsing: a burst of upgrade
 * requests whose headers are the worst case for a backtracking parser (an
 * element with 15,000 spaces inside, just under Node's 16 KiB header limit)
 * is answered, and an echo on an open connection still goes through.
 *
 * No timing is asserted. With a quadratic trim each of these requests blocks
 * the event loop for most of a second, so the burst alone would outlast the
 * test's timeout; with a linear one it takes milliseconds.
 */
const apps = useApps();

const BURST = 40;
const PATHOLOGICAL = `chat, a${' '.repeat(15_000)}b`;

test('a burst of upgrades with 15 KB whitespace-filled headers is answered while an echo on another connection completes', async () => {
  const running = await apps.start((app) => {
    app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
  });
  const echo = await connectRaw(running.port, '/echo');
  apps.track(() => echo.destroy());

  const burst = await Promise.all(Array.from({ length: BURST }, () => RawConnection.open(running.port)));
  for (const conn of burst) apps.track(() => conn.destroy());
  for (const conn of burst) conn.write(upgradeRequestFor('/echo', [`Sec-WebSocket-Protocol: ${PATHOLOGICAL}`]));
  // Queued behind the whole burst.
  echo.sendFrame(0x1, 'still served');

  const frame = await echo.nextFrame();
  expect(frame.payload.toString()).toBe('still served');
  // "a      b" is not a token: each request gets its 400, none is left hanging.
  const statuses = await Promise.all(burst.map(async (conn) => (await conn.readResponse()).status));
  expect(statuses).toEqual(Array.from({ length: BURST }, () => 400));
});
