/**
 * attach-ws/testing needs no test framework: a node:test file using the
 * built package passes under `node --test` (and the process exits: nothing
 * is left open).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const built = existsSync(path.join(root, 'dist/testing/index.js'));
if (!built) process.stderr.write('\n!!! dist/testing is missing: run `npm run build` — skipping the node:test run\n\n');

(built ? test : test.skip)('a node:test file using attach-ws/testing from dist passes and the process exits', () => {
  const file = path.join(__dirname, 'node-test/echo.node-test.js');
  const out = execFileSync(process.execPath, ['--test', '--test-reporter=tap', file], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(out).toContain('# pass 3');
  expect(out).toContain('# fail 0');
});
