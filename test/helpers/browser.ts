import { chromium, type Browser } from 'playwright-core';
import { findService } from './services';

/**
 * Flags for the Debian `chromium` package under test: headless, no sandbox
 * (containers run as root), and nothing that phones home or talks QUIC, so the
 * only traffic is what the test itself makes to 127.0.0.1.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The system Chromium's path, or `undefined` (after a loud notice) when it is
 * not installed; with CI=true a missing Chromium throws instead. Call it at
 * module load to choose between `describe` and `describe.skip`.
 *
 * @example
 * const chromiumPath = findChromium();
 * (chromiumPath ? describe : describe.skip)('in a real browser', () => { ... });
 */
export function findChromium(): string | undefined {
  return findService('chromium');
}

/**
 * Launch the system Chromium through playwright-core. Every launch gets a
 * fresh, temporary profile (`--user-data-dir`, created and removed by
 * Playwright), so no cookies or storage leak between runs. The caller must
 * `await browser.close()` (in `afterAll`), which also removes the profile.
 */
export async function launchChromium(executablePath: string, extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
}
