import { checkOrigin, requestHost, validateHandshake, type UpgradeRequestLike } from '../../src/handshake';
import { requestFrom, VALID_HEADERS } from '../handshake/request-fixture';

/**
 * Every header parser of the handshake runs in time linear in the header's
 * length: the worst 16 KiB header (Node's default limit for all headers)
 * costs at most ~3 × 16 × the worst 1 KiB one. A backtracking regex over
 * whitespace (the class of ws's CVE-2021-32640) makes it ~16 × 16 ×.
 *
 * Measured as a ratio of two costs taken in the same process, each the
 * minimum of several batches, so a loaded machine slows both sides alike.
 */
const SMALL = 1024;
const LARGE = 16 * 1024;
const MAX_RATIO = 3;

/** Nanoseconds for `reps` runs of `run(input)`. */
function batch<T>(run: (input: T) => void, input: T, reps: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) run(input);
  return Number(process.hrtime.bigint() - start);
}

/**
 * Cost per byte of the large input over cost per byte of the small one:
 * ~1 for a linear parser, ~16 for a quadratic one.
 */
function measureOnce<T>(run: (input: T) => void, small: T, large: T): number {
  // Warm up both shapes so neither side pays for compilation.
  batch(run, small, 64);
  batch(run, large, 4);
  // Enough small runs to take ~2 ms, so timer resolution does not matter.
  let reps = 16;
  while (batch(run, small, reps) < 2e6 && reps < 1 << 20) reps *= 2;
  let bestSmall = Infinity;
  let bestLarge = Infinity;
  for (let trial = 0; trial < 5; trial++) {
    bestSmall = Math.min(bestSmall, batch(run, small, reps));
    bestLarge = Math.min(bestLarge, batch(run, large, reps / 16));
  }
  // The same number of bytes went through each side.
  return bestLarge / bestSmall;
}

/**
 * A burst of load from elsewhere can spoil one measurement: one just over the
 * bound is taken again (up to three times, the lowest counts). A superlinear
 * parser is far over it (~16) every time and is not measured again.
 */
function perByteCostRatio<T>(run: (input: T) => void, small: T, large: T): number {
  let best = measureOnce(run, small, large);
  for (let attempt = 1; attempt < 3 && best > MAX_RATIO && best < 2 * MAX_RATIO; attempt++) {
    best = Math.min(best, measureOnce(run, small, large));
  }
  return best;
}

/** The RFC sample request with header `name` replaced by `value`. */
function requestWith(name: string, value: string): UpgradeRequestLike {
  const headers = VALID_HEADERS.filter(([header]) => header.toLowerCase() !== name.toLowerCase());
  return requestFrom([...headers, [name, value]]);
}

function validate(req: UpgradeRequestLike): void {
  try {
    validateHandshake(req);
  } catch {
    // A 400 is the expected answer to most of these; only the time matters.
  }
}

/** A header value of `size` characters: `prefix`, then `fill` repeated, then `suffix`. */
function shaped(size: number, prefix: string, fill: string, suffix: string): string {
  const count = Math.max(1, Math.floor((size - prefix.length - suffix.length) / fill.length));
  return prefix + fill.repeat(count) + suffix;
}

type Shape = readonly [header: string, prefix: string, fill: string, suffix: string];

const shapes: Shape[] = [
  // Whitespace inside an element: what a trailing-OWS regex backtracks over.
  ['Connection', 'Upgrade, a', ' ', 'b'],
  ['Connection', 'Upgrade, a', ' \t', 'b'],
  ['Connection', '', ', ', 'Upgrade'],
  ['Upgrade', 'websocket, a', ' ', 'b'],
  ['Upgrade', '', ',', 'websocket'],
  ['Sec-WebSocket-Protocol', 'chat, a', ' ', 'b'],
  ['Sec-WebSocket-Protocol', '', ' , ', 'chat'],
  ['Sec-WebSocket-Protocol', 'chat', ',a', ''],
  ['Sec-WebSocket-Extensions', 'permessage-deflate;', ' ', 'x'],
  ['Sec-WebSocket-Extensions', 'permessage-deflate; a="', '\\b', '"'],
  ['Sec-WebSocket-Extensions', 'permessage-deflate', '; a', ''],
  ['Sec-WebSocket-Extensions', '', ', ', 'permessage-deflate'],
  ['Sec-WebSocket-Extensions', 'a', ' ', ';'],
];

test.each(shapes)('parsing a 16 KiB %s header of the shape %j + %j… + %j costs at most 3 × 16 × a 1 KiB one', (header, prefix, fill, suffix) => {
  const small = requestWith(header, shaped(SMALL, prefix, fill, suffix));
  const large = requestWith(header, shaped(LARGE, prefix, fill, suffix));
  const ratio = perByteCostRatio(validate, small, large);
  if (process.env.SHOW_RATIOS) console.log(header, JSON.stringify(fill), ratio.toFixed(2));
  expect(ratio).toBeLessThanOrEqual(MAX_RATIO);
});

/** The default same-origin check, as the server runs it: the request's host (trusting a proxy), then the Origin. */
function sameOriginCheck(req: UpgradeRequestLike): void {
  try {
    checkOrigin(req.headers.origin as string, undefined, req, requestHost(req, true));
  } catch {
    // A 403 is the expected answer; only the time matters.
  }
}

const originShapes: Shape[] = [
  ['Origin', 'http://a', ' ', 'b'],
  ['Origin', 'http://', 'a.', 'example'],
  ['Origin', 'https://', '%41', '.example'],
  ['Origin', 'http://[', '1:', ']'],
  ['Origin', 'http://a.example:', '0', ''],
  ['Origin', 'http://', 'a@', 'b'],
  ['Host', 'a', ' ', 'b'],
  ['Host', '', 'a.', 'example'],
  ['Host', '[', ':', ']:80'],
  ['Host', 'a.example:', '1', ''],
  ['X-Forwarded-Host', 'a', ' ', 'b'],
  ['X-Forwarded-Host', '', ' ,', 'a.example'],
];

test.each(originShapes)('checking the origin against a 16 KiB %s of the shape %j + %j… + %j costs at most 3 × 16 × a 1 KiB one', (header, prefix, fill, suffix) => {
  const build = (size: number) => {
    const req = requestWith(header, shaped(size, prefix, fill, suffix));
    if (header !== 'Origin') req.headers.origin = 'http://a.example';
    return req;
  };
  const ratio = perByteCostRatio(sameOriginCheck, build(SMALL), build(LARGE));
  if (process.env.SHOW_RATIOS) console.log(header, JSON.stringify(fill), ratio.toFixed(2));
  expect(ratio).toBeLessThanOrEqual(MAX_RATIO);
});
