import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

// The built package is what users get: `npm ci` builds dist/ through `prepare`.
const describeBuilt = existsSync(path.join(root, 'dist/index.js')) ? describe : describe.skip;
if (!existsSync(path.join(root, 'dist/index.js'))) {
  process.stderr.write('\n!!! dist/ is missing: run `npm run build` (npm ci does it) — skipping the package tests\n\n');
}

function node(script: string): string {
  return execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }).trim();
}

describeBuilt('the built package', () => {
  test("require('attach-ws') loads dist and exports attachWs without loading a Redis client", () => {
    const out = node(
      "const m = require('attach-ws'); console.log(typeof m.attachWs, typeof m.WebSocket, Object.keys(require.cache).some((k) => k.includes('ioredis')))",
    );
    expect(out).toBe('function function false');
  });

  test("the subpath 'attach-ws/redis' exports redisAdapter", () => {
    expect(node("console.log(typeof require('attach-ws/redis').redisAdapter)")).toBe('function');
  });

  test("the subpath 'attach-ws/testing' exports request and WsTestError without loading ws", () => {
    expect(
      node(
        "const t = require('attach-ws/testing'); console.log(typeof t.request, typeof t.WsTestError, Object.keys(require.cache).some((k) => /node_modules[\\/]ws[\\/]/.test(k)))",
      ),
    ).toBe('function function false');
  });

  test('type declarations are emitted next to the code', () => {
    expect(existsSync(path.join(root, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(path.join(root, 'dist/pubsub/redis-adapter.d.ts'))).toBe(true);
    expect(existsSync(path.join(root, 'dist/testing/index.d.ts'))).toBe(true);
  });

  test("attach-ws/testing's declarations have no `any`", () => {
    const dir = path.join(root, 'dist/testing');
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.d.ts'))) {
      // Comments may say "any"; the types may not.
      const code = readFileSync(path.join(dir, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect({ file, any: /\bany\b/.test(code) }).toEqual({ file, any: false });
    }
  });
});
