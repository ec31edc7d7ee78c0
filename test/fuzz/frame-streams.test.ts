/**
 * A short, seeded slice of `npm run fuzz` (scripts/fuzz): valid, single-
 * mutation and random frame streams in random chunkings through a real
 * server, with and without permessage-deflate. Every stream is judged by its
 * oracle: valid ones echo exactly, mutated ones close with the code their
 * mutation implies, random ones close with 1002/1007/1009 or not at all.
 */
import { startFuzzServer, type FuzzServer } from '../../scripts/fuzz/echo-server';
import { runFuzz, summaryLine, type FuzzReport } from '../../scripts/fuzz/run-fuzz';

let server: FuzzServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function expectClean(report: FuzzReport): void {
  // The summary line and the samples say which stream failed, with its seed.
  expect({ line: summaryLine(report), samples: report.samples }).toEqual({ line: expect.stringMatching(/^fuzz OK /), samples: [] });
  expect(report.frames).toBeGreaterThanOrEqual(2_000);
  expect(report.streams.valid).toBeGreaterThan(0);
  expect(report.streams.mutated).toBeGreaterThan(0);
  expect(report.streams.random).toBeGreaterThan(0);
}

test.each([
  ['without permessage-deflate', false, 20261129],
  ['with permessage-deflate (both context takeover settings)', true, 20261130],
])(
  'thousands of seeded frames %s: no crash, no connection left open, every close code and echo as the oracle says',
  async (_name, deflate, seed) => {
    server = await startFuzzServer();
    const report = await runFuzz(server, { seed, frames: 2_000, deflate, concurrency: 8 });
    expectClean(report);
    expect(server.wss.clients.size).toBe(0);
  },
  240_000,
);
