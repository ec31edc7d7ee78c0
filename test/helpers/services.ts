import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Find a system service a test suite needs (a Debian package's binary).
 * Returns its path, or `undefined` after a loud notice so the suite can skip.
 * With CI=true a missing service is a failure, never a skip: this throws.
 */
export function findService(pkg: 'redis-server' | 'chromium'): string | undefined {
  const path = pkg === 'chromium' ? chromiumPath() : onPath(pkg);
  if (path) return path;
  const message = `${pkg} is not installed: install the Debian package "${pkg}" (apt-get install -y ${pkg}).`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  process.stderr.write(`\n${'!'.repeat(80)}\n!!! SKIPPING tests: ${message}\n${'!'.repeat(80)}\n\n`);
  return undefined;
}

function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : onPath('chromium');
}

function onPath(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
