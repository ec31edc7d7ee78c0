/**
 * `npm run fuzz [-- --seed=N --frames=N --concurrency=N --deflate=on|off|both]`:
 * at least 1,000,000 frames by default, half with permessage-deflate. Prints
 * one summary line per mode and exits non-zero on any failure.
 * `--stream=<seed> --deflate=on|off` replays one stream a failure printed.
 */
import { startFuzzServer } from './echo-server';
import { emptyReport, passed, runFuzz, runStream, summaryLine } from './run-fuzz';

function arg(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  const found = process.argv.find((a) => a.startsWith(prefix));
  return found === undefined ? fallback : found.slice(prefix.length);
}

async function main(): Promise<void> {
  const seed = Number(arg('seed', String(Date.now() % 1_000_000)));
  const frames = Number(arg('frames', '1000000'));
  const concurrency = Number(arg('concurrency', '32'));
  const modes = arg('deflate', 'both');
  const runs = modes === 'both' ? [false, true] : [modes === 'on'];
  let uncaught = 0;
  process.on('uncaughtException', (err) => {
    uncaught++;
    console.error('uncaught exception:', err);
  });
  process.on('unhandledRejection', (err) => {
    uncaught++;
    console.error('unhandled rejection:', err);
  });
  const server = await startFuzzServer();
  const stream = arg('stream', '');
  if (stream !== '') {
    const report = emptyReport({ seed: Number(stream), deflate: modes === 'on' });
    await runStream(server, Number(stream), modes === 'on', report);
    console.log(summaryLine(report));
    for (const sample of report.samples) console.log(`  ${sample}`);
    await server.close();
    return;
  }
  let ok = true;
  const started = Date.now();
  for (const deflate of runs) {
    // Split the frame budget over the modes; each mode gets its own seed stream.
    const report = await runFuzz(server, { seed: seed + (deflate ? 1 : 0), frames: Math.ceil(frames / runs.length), deflate, concurrency });
    report.crashes += uncaught;
    uncaught = 0;
    console.log(summaryLine(report));
    for (const sample of report.samples) console.log(`  ${sample}`);
    ok &&= passed(report);
  }
  await server.close();
  console.log(`fuzz ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed}; replay with --seed=${seed})`);
  process.exitCode = ok ? 0 : 1;
}

void main();
