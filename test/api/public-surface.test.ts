/**
 * The published surface is deliberate: nothing internal reaches dist/*.d.ts,
 * and the committed API report (api/attach-ws.api.md) matches what dist/
 * declares, so every change to the surface shows up in review.
 *
 * The declarations are emitted fresh from src/ with tsconfig.build.json (what
 * `npm run build` puts in dist/). After changing the surface: `npm run
 * api:report` builds and regenerates the report; review its diff, commit it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const report = require('../../scripts/api-report.js') as {
  generateFresh(inspect: (dtsDir: string) => void): {
    text: string;
    collected: { api: Array<{ subpath: string; names: Array<{ name: string; decls: unknown[] }> }>; reachable: unknown[]; diagnostics: unknown[] };
  };
  staleDist(): string | null;
  memberNames(decl: unknown): string[];
  filesMentioningInternal(dir: string): string[];
  lineDiff(expected: string, actual: string): string;
  reportFile: string;
  distDir: string;
};

/** Class members that exist for the library's own layers; none may be visible to users. */
const INTERNAL_NAMES = [
  'received',
  'socketClosed',
  'notifyDrain',
  'listenerAdded',
  'settings',
  'connectionOpened',
  'createSocketHost',
  'upgradeRejected',
  'reportError',
  'handshakeTimeoutMs',
];

jest.setTimeout(300_000); // one TypeScript program over dist/: slow on a loaded machine

let generated: ReturnType<typeof report.generateFresh>;
let mentioningInternal: string[];
beforeAll(() => {
  // The declarations npm would publish, emitted fresh from src/ (dist/ may be stale mid-development).
  generated = report.generateFresh((dtsDir) => {
    mentioningInternal = report.filesMentioningInternal(dtsDir);
  });
});

describe('the published types', () => {
  test('no declaration in dist/ carries an @internal member (stripInternal removes them)', () => {
    expect(mentioningInternal).toEqual([]);
  });

  test('no class users can reach (WebSocket, WsServer, …) has an internal member', () => {
    const { api, reachable } = generated.collected;
    const decls = [...api.flatMap((entry) => entry.names.flatMap((n) => n.decls)), ...reachable];
    const leaks = decls.flatMap((decl) => report.memberNames(decl).filter((name) => INTERNAL_NAMES.includes(name)));
    expect(leaks).toEqual([]);
  });

  test("the package's declarations type-check for a strict consumer without skipLibCheck", () => {
    expect(generated.collected.diagnostics).toEqual([]);
  });

  test('no test helper ships in dist/', () => {
    if (!existsSync(report.distDir)) return; // nothing built, nothing shipped
    const shipped = readdirSync(report.distDir, { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
    const sources = new Set(
      readdirSync(path.resolve(__dirname, '../../src'), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => f.replace(/\.ts$/, '.js')),
    );
    // A .js in dist/ without a .ts in src/ is a leftover of a moved file (an old build).
    expect(shipped.filter((f) => !sources.has(f))).toEqual([]);
  });
});

describe('the API report', () => {
  test('api/attach-ws.api.md matches dist/ (run `npm run api:report`, review the diff, commit)', () => {
    const committed = existsSync(report.reportFile) ? readFileSync(report.reportFile, 'utf8') : '';
    if (committed !== generated.text) {
      throw new Error(`the public API changed; run \`npm run api:report\`, review and commit:\n${report.lineDiff(committed, generated.text)}`);
    }
  });
});
