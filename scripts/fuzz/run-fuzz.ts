/**
 * The fuzz loop: streams (valid, mutated, random) over many connections at
 * once through a real server, each checked against its oracle, until the
 * target number of frames has been sent. Deterministic for a seed, except
 * for how TCP happens to coalesce the chunks.
 */
import { Prng } from './prng';
import { exchange, openConnection, type Received } from './raw-connection';
import { mutatedPlan, planBytes, randomPlan, validPlan, type Plan } from './streams';
import { FUZZ_CLOSE_TIMEOUT_MS, type FuzzServer } from './echo-server';
import type { ClientDeflate } from './client-deflate';

export interface FuzzOptions {
  seed: number;
  /** Stop once this many frames were sent (random streams count one frame each). */
  frames: number;
  /** Offer permessage-deflate (with one of several parameter sets) on every connection. */
  deflate: boolean;
  /** Connections at once. */
  concurrency: number;
}

export interface FuzzReport {
  seed: number;
  deflate: boolean;
  streams: { valid: number; mutated: number; random: number };
  frames: number;
  bytes: number;
  /** Errors the server reported or threw: must be 0. */
  crashes: number;
  /** Connections the server did not close in time (client side) or still held at the end (server side). */
  leftOpen: number;
  /** Close frames with a code the oracle did not allow (or missing where one was due). */
  wrongCloseCodes: number;
  /** Echoes or pongs that differ from what was sent. */
  wrongEchoes: number;
  /** Frames from the server that the decoder rejects, or compressed ones that do not inflate. */
  badServerFrames: number;
  /** Up to 10 failures, each with the stream's seed to replay it. */
  samples: string[];
}

/**
 * How long a client waits, after its last write, for the server to close the
 * connection before counting it as left open: far past the server's close
 * timeout, since a loaded machine delays everything (a leaked connection
 * never closes, and the server-side count at the end catches it too).
 */
const CLIENT_WAIT_MS = FUZZ_CLOSE_TIMEOUT_MS + 18_000;

const OFFERS = [
  'permessage-deflate',
  'permessage-deflate; client_max_window_bits',
  'permessage-deflate; client_no_context_takeover',
  'permessage-deflate; server_max_window_bits=10; client_max_window_bits=9',
];

function plan(rng: Prng, deflate: ClientDeflate | null): Plan {
  const r = rng.next();
  if (r < 0.5) return validPlan(rng, deflate);
  if (r < 0.85) return mutatedPlan(rng, deflate);
  return randomPlan(rng);
}

function sameMessage(a: { binary: boolean; data: Buffer }, b: { binary: boolean; data: Buffer }): boolean {
  return a.binary === b.binary && a.data.equals(b.data);
}

/** Compare what came back with the plan's oracle; returns the failures (empty = as expected). */
export function judge(plan: Plan, got: Received): Array<keyof FuzzReport & ('wrongCloseCodes' | 'wrongEchoes' | 'badServerFrames' | 'leftOpen')> {
  const failures: Array<'wrongCloseCodes' | 'wrongEchoes' | 'badServerFrames' | 'leftOpen'> = [];
  if (got.leftOpen) failures.push('leftOpen');
  if (got.badFrame !== null || got.inflateError !== null) failures.push('badServerFrames');
  if (plan.kind === 'random') {
    if (got.closeCode !== null && !plan.closeCodes.includes(got.closeCode)) failures.push('wrongCloseCodes');
    return failures;
  }
  if (got.closeCode === null || !plan.closeCodes.includes(got.closeCode)) failures.push('wrongCloseCodes');
  // Mutated streams: the server may fail before echoing all of the prefix, never out of order.
  const complete = plan.kind === 'valid';
  const echoesOk =
    (complete ? got.messages.length === plan.echoes.length : got.messages.length <= plan.echoes.length) &&
    got.messages.every((message, i) => sameMessage(message, plan.echoes[i]!));
  const pongsOk =
    !complete || (got.pongs.length === plan.pongs.length && got.pongs.every((pong, i) => pong.equals(plan.pongs[i]!)));
  if (!echoesOk || !pongsOk) failures.push('wrongEchoes');
  return failures;
}

function describe(plan: Plan, got: Received, seed: number, path: string, offer: string | null): string {
  return (
    `stream seed ${seed} (${plan.kind}${plan.mutation ? `: ${plan.mutation}` : ''}, ${path}, offer ${offer ?? 'none'}): ` +
    `close ${got.closeCode} (allowed ${plan.closeCodes.join('/') || 'none'}), ` +
    `${got.messages.length}/${plan.echoes.length} echoes, ${got.pongs.length}/${plan.pongs.length} pongs` +
    `${got.leftOpen ? ', left open' : ''}${got.badFrame ? `, bad frame: ${got.badFrame}` : ''}` +
    `${got.inflateError ? `, inflate: ${got.inflateError}` : ''}`
  );
}

/** Run one stream on a connection of its own; its seed alone reproduces it. */
export async function runStream(server: FuzzServer, seed: number, deflate: boolean, report: FuzzReport): Promise<void> {
  const rng = new Prng(seed);
  const path = deflate && rng.chance(0.5) ? '/echo-takeover' : '/echo';
  const offer = deflate ? rng.pick(OFFERS) : null;
  const opened = await openConnection(server.port, path, offer);
  const streamPlan = plan(rng, opened.deflate);
  const bytes = planBytes(streamPlan);
  // Random bytes may leave the server waiting for the rest of a frame: half-close to end it.
  const got = await exchange(opened, bytes, rng, streamPlan.kind === 'random', CLIENT_WAIT_MS);
  report.streams[streamPlan.kind]++;
  report.frames += streamPlan.raw === null ? streamPlan.frames.length : 1;
  report.bytes += bytes.length;
  const failures = judge(streamPlan, got);
  for (const failure of failures) report[failure]++;
  if (failures.length > 0 && report.samples.length < 10) report.samples.push(describe(streamPlan, got, seed, path, offer));
}

export function emptyReport(options: Pick<FuzzOptions, 'seed' | 'deflate'>): FuzzReport {
  return {
    seed: options.seed,
    deflate: options.deflate,
    streams: { valid: 0, mutated: 0, random: 0 },
    frames: 0,
    bytes: 0,
    crashes: 0,
    leftOpen: 0,
    wrongCloseCodes: 0,
    wrongEchoes: 0,
    badServerFrames: 0,
    samples: [],
  };
}

export async function runFuzz(server: FuzzServer, options: FuzzOptions): Promise<FuzzReport> {
  const report = emptyReport(options);
  const seeds = new Prng(options.seed);
  const errorsBefore = server.errors.length;
  const worker = async (): Promise<void> => {
    while (report.frames < options.frames) {
      const seed = (seeds.next() * 4294967296) >>> 0;
      try {
        await runStream(server, seed, options.deflate, report);
      } catch (err) {
        // The handshake failed or the client broke: the server refused a valid upgrade.
        report.crashes++;
        if (report.samples.length < 10) report.samples.push(`stream seed ${seed}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  // Server side: every connection must be gone once its client is.
  report.leftOpen += await openAfter(server, FUZZ_CLOSE_TIMEOUT_MS + 1_000);
  report.crashes += server.errors.length - errorsBefore;
  for (const err of server.errors.slice(errorsBefore, errorsBefore + 3)) report.samples.push(`server error: ${err.stack ?? err.message}`);
  return report;
}

/** Connections the server still holds after `ms` (checked each turn of a short timer, not assumed). */
async function openAfter(server: FuzzServer, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (server.wss.clients.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return server.wss.clients.size;
}

/** One line for humans and CI logs. */
export function summaryLine(report: FuzzReport): string {
  const { valid, mutated, random } = report.streams;
  const ok = report.crashes + report.leftOpen + report.wrongCloseCodes + report.wrongEchoes + report.badServerFrames === 0;
  return (
    `fuzz ${ok ? 'OK' : 'FAIL'} seed=${report.seed} deflate=${report.deflate ? 'on' : 'off'} ` +
    `frames=${report.frames} streams=${valid + mutated + random} (valid ${valid}, mutated ${mutated}, random ${random}) ` +
    `bytes=${report.bytes} crashes=${report.crashes} left-open=${report.leftOpen} ` +
    `wrong-close-codes=${report.wrongCloseCodes} wrong-echoes=${report.wrongEchoes} bad-server-frames=${report.badServerFrames}`
  );
}

export function passed(report: FuzzReport): boolean {
  return report.crashes + report.leftOpen + report.wrongCloseCodes + report.wrongEchoes + report.badServerFrames === 0;
}
