#!/usr/bin/env node
// pretest: make sure the system services some tests use are present.
// As root with apt-get, installs the missing Debian packages (and says so).
// Otherwise prints a loud notice: those tests skip, except with CI=true,
// where they fail (see test/helpers/services.ts).
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const services = [
  { pkg: 'redis-server', present: () => onPath('redis-server'), usedBy: 'the Redis adapter tests' },
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium'), usedBy: 'the browser tests' },
];

function onPath(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = services.filter((s) => !s.present());
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && onPath('apt-get') && process.env.ATTACH_WS_NO_INSTALL !== '1') {
  const pkgs = missing.map((s) => s.pkg);
  console.log(`pretest: installing Debian packages ${pkgs.join(', ')} (used by ${missing.map((s) => s.usedBy).join(' and ')})`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    console.error(`pretest: apt-get install failed: ${err.message}`);
  }
}

for (const s of services.filter((x) => !x.present())) {
  const line = `!!! ${s.pkg} is not installed: ${s.usedBy} ${process.env.CI === 'true' ? 'will FAIL (CI=true)' : 'will be SKIPPED'}. Install the Debian package "${s.pkg}".`;
  console.error('!'.repeat(Math.min(line.length, 100)));
  console.error(line);
  console.error('!'.repeat(Math.min(line.length, 100)));
}
