/**
 * The demo chat end to end in real Chromium pages (playwright-core driving the
 * system `chromium`): nickname form, rooms, typing indicator, history on
 * reload, and reconnection after the server restarts. Skips loudly without
 * Chromium, fails under CI=true (test/helpers/services.ts).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { attachWs } from 'attach-ws';
import { createChatApp, type ChatApp } from '../../../demo/app';
import { findChromium, launchChromium } from '../../helpers/browser';

const chromiumPath = findChromium();
const SCREENSHOT = path.resolve(__dirname, '../../../test-output/demo-chat.png');

(chromiumPath ? describe : describe.skip)('the demo chat in Chromium', () => {
  let browser: Browser;
  let chat: ChatApp;
  let url: string;
  const contexts: BrowserContext[] = [];
  /** Uncaught exceptions and CSP violations in any page: each test ends with none. */
  const pageProblems: string[] = [];

  jest.setTimeout(60_000);

  beforeAll(async () => {
    chat = createChatApp({ attachWs });
    url = await chat.listen(0, '127.0.0.1');
    browser = await launchChromium(chromiumPath!);
  });

  afterEach(() => {
    expect(pageProblems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await chat?.close();
  });

  /** A new person (own cookies) opens `/r/:room` and picks a nickname. */
  async function person(nick: string, room: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageProblems.push(`${nick}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content.Security.Policy/i.test(msg.text())) pageProblems.push(`${nick}: ${msg.text()}`);
    });
    await page.goto(`${url}/r/${room}`);
    await page.locator('#nick-form input[name=nick]').fill(nick);
    await page.locator('#nick-form button').click();
    await page.locator('#status[data-state=online]').waitFor();
    await page.locator('#members li', { hasText: nick }).waitFor();
    return page;
  }

  function messages(page: Page) {
    return page.locator('#messages li.msg');
  }

  it('leaves the browser console empty on first load, after joining and after a reconnect', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
    contexts.push(context);
    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));

    // A first visit has no nickname: a normal state, not a failed request.
    await page.goto(`${url}/r/quiet`);
    await page.waitForLoadState('networkidle');
    await page.locator('#nick-form input[name=nick]').waitFor();
    expect(consoleLines).toEqual([]);

    await page.locator('#nick-form input[name=nick]').fill('quinn');
    await page.locator('#nick-form button').click();
    await page.locator('#status[data-state=online]').waitFor();
    expect(consoleLines).toEqual([]);

    // The server drops the connection (it stays up): the page reconnects by itself.
    const wss = chat.wss as unknown as { clients: Iterable<{ topics: ReadonlySet<string>; terminate(): void }> };
    const acceptedBefore = chat.wss.stats().upgrades.accepted;
    for (const client of wss.clients) if (client.topics.has('room:quiet')) client.terminate();
    await page.waitForFunction("document.querySelector('#status').getAttribute('data-state') !== 'online'");
    await page.locator('#status[data-state=online]').waitFor({ timeout: 20_000 });
    expect(chat.wss.stats().upgrades.accepted).toBeGreaterThan(acceptedBefore);
    expect(consoleLines).toEqual([]);
  });

  it('shows a message to everyone in the room, and only there, with a typing indicator first', async () => {
    const alice = await person('alice', 'tea');
    const bob = await person('bob', 'tea');
    const carol = await person('carol', 'coffee');

    await alice.locator('#messages li.notice', { hasText: 'bob joined' }).waitFor();
    await expectText(alice.locator('#members'), /alice \(you\)\s*bob/);

    await alice.locator('#text').pressSequentially('hello', { delay: 20 });
    await expectText(bob.locator('#typing'), 'alice is typing…');
    await alice.locator('#text').press('Enter');

    await messages(bob).filter({ hasText: 'hello' }).waitFor();
    await expectText(messages(bob).last().locator('.nick'), 'alice');
    await expectText(messages(bob).last().locator('.text'), 'hello');
    await messages(alice).filter({ hasText: 'hello' }).waitFor();
    await expectText(bob.locator('#typing'), '');

    await bob.locator('#text').fill('hi alice, tea is ready');
    await bob.locator('#text').press('Enter');
    await messages(alice).filter({ hasText: 'tea is ready' }).waitFor();

    // Carol, in another room, sees her own message arrive and none of theirs.
    await carol.locator('#text').fill('anyone for coffee?');
    await carol.locator('#text').press('Enter');
    await messages(carol).filter({ hasText: 'anyone for coffee?' }).waitFor();
    expect(await messages(carol).allTextContents()).toEqual([expect.stringContaining('anyone for coffee?')]);
    expect(await carol.locator('#typing').textContent()).toBe('');
    expect(await messages(bob).allTextContents()).not.toContainEqual(expect.stringContaining('coffee'));

    // The picture for the README: Alice is typing her answer.
    await alice.locator('#text').pressSequentially('lovely', { delay: 20 });
    await expectText(bob.locator('#typing'), 'alice is typing…');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await bob.screenshot({ path: SCREENSHOT });
    process.stdout.write(`demo screenshot: ${SCREENSHOT}\n`);
  });

  it('replays the history once when a page is reloaded', async () => {
    const dora = await person('dora', 'tea');
    await messages(dora).filter({ hasText: 'tea is ready' }).waitFor();
    expect(await messages(dora).count()).toBe(2);
    await dora.reload();
    await dora.locator('#status[data-state=online]').waitFor();
    await messages(dora).filter({ hasText: 'tea is ready' }).waitFor();
    expect(await messages(dora).count()).toBe(2);
  });

  it('shows the connection status and reconnects when the server restarts', async () => {
    const erin = await person('erin', 'restart');
    const port = Number(new URL(url).port);

    await chat.close();
    await erin.locator('#status[data-state=reconnecting]').waitFor();
    expect(await erin.locator('#send').isDisabled()).toBe(true);

    chat = createChatApp({ attachWs });
    await chat.listen(port, '127.0.0.1');
    await erin.locator('#status[data-state=online]').waitFor({ timeout: 20_000 });
    await erin.locator('#messages li.notice', { hasText: 'the server restarted' }).waitFor();

    await erin.locator('#text').fill('back again');
    await erin.locator('#text').press('Enter');
    await messages(erin).filter({ hasText: 'back again' }).waitFor();
  });
});

/** Wait until the locator's text matches (Playwright's own `expect` is not in playwright-core). */
async function expectText(locator: import('playwright-core').Locator, want: string | RegExp, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.textContent()) ?? '';
    if (typeof want === 'string' ? last === want : want.test(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected text ${String(want)}, got ${JSON.stringify(last)}`);
}
