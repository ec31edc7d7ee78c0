/**
 * The error catalogue's habits: every code the source uses is catalogued,
 * every catalogued code is used and in the README table, each message is
 * written once, and the brands survive a second copy of the package.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  AttachWsError,
  DeflateClosedError,
  HandshakeError,
  ProtocolError,
  handshakeErrors,
  middlewareRejections,
  protocolErrors,
  redisAdapterErrors,
  usageErrors,
  sendErrors,
  inboundErrors,
  RedisAdapterError,
  protocolError,
  handshakeError,
  codedError,
  type ErrorCode,
} from '../../src/errors';

const root = path.resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

const catalogue: Record<ErrorCode, string> = {
  ...Object.fromEntries(Object.entries(protocolErrors).map(([code, [, message]]) => [code, message])),
  ...Object.fromEntries(Object.entries(handshakeErrors).map(([code, [, message]]) => [code, message])),
  ...middlewareRejections,
  ...usageErrors,
  ...sendErrors,
  ...inboundErrors,
  ...redisAdapterErrors,
} as Record<ErrorCode, string>;
const codes = Object.keys(catalogue);

/**
 * `'WS_…'` string literals in src/, outside the catalogue itself and outside
 * attach-ws/testing, whose WsTestError codes (WS_TEST_…) fail a user's test
 * rather than a connection and are listed in the README's testing section.
 */
function codesUsedInSource(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of sourceFiles(path.join(root, 'src'))) {
    if (file.endsWith(`${path.sep}errors.ts`) || file.includes(`${path.sep}testing${path.sep}`)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/'(WS_[A-Z0-9_]+)'/g)) {
      const list = used.get(m[1]!) ?? [];
      list.push(path.relative(root, file));
      used.set(m[1]!, list);
    }
  }
  return used;
}

describe('the error catalogue', () => {
  test('every WS_ code in src/ is catalogued in src/errors.ts', () => {
    const unknown = [...codesUsedInSource().entries()].filter(([code]) => !codes.includes(code));
    expect(unknown).toEqual([]);
  });

  test('every catalogued code is used somewhere in src/ (no dead codes like the old WS_ERR_INTERNAL)', () => {
    const used = codesUsedInSource();
    // Codes whose error is made inside errors.ts: their maker must be used instead.
    const makers: Record<string, string> = {
      WS_ERR_NOT_OPEN: 'notOpenError(',
      WS_ERR_DEFLATE_CLOSED: 'new DeflateClosedError(',
      WS_ERR_HANDLER_FAILED: 'asHandlerError(',
    };
    const elsewhere = sourceFiles(path.join(root, 'src'))
      .filter((file) => !file.endsWith(`${path.sep}errors.ts`))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    for (const [code, maker] of Object.entries(makers)) if (elsewhere.includes(maker)) used.set(code, []);
    expect(codes.filter((code) => !used.has(code))).toEqual([]);
  });

  test('no two codes share a message, and no message is repeated as a literal elsewhere in src/', () => {
    const messages = Object.values(catalogue);
    expect(messages.length).toBe(new Set(messages).size);
    const copies: string[] = [];
    for (const file of sourceFiles(path.join(root, 'src'))) {
      if (file.endsWith(`${path.sep}errors.ts`)) continue;
      const text = readFileSync(file, 'utf8');
      for (const message of messages) if (text.includes(`'${message}'`)) copies.push(`${path.relative(root, file)}: ${message}`);
    }
    expect(copies).toEqual([]);
  });

  test('the README table lists exactly the catalogued codes, with their close code or HTTP status', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Errors'));
    const rows = [...section.matchAll(/^\| `(WS_[A-Z0-9_]+)` \|[^|]*\|([^|]*)\|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
    expect(rows.map(([code]) => code).sort()).toEqual([...codes].sort());
    for (const [code, where] of rows) {
      if (code in protocolErrors) expect(where).toBe(`close ${protocolErrors[code as keyof typeof protocolErrors][0]}`);
      if (code in handshakeErrors) expect(where).toBe(`HTTP ${handshakeErrors[code as keyof typeof handshakeErrors][0]}`);
    }
  });

  test('codes follow the WS_ERR_ / WS_HANDSHAKE_ style', () => {
    expect(codes.filter((code) => !/^WS_(ERR|HANDSHAKE)_[A-Z0-9_]+$/.test(code))).toEqual([]);
  });
});

describe('errors carry a code and their protocol meaning', () => {
  test('a protocol error knows its close code and extends AttachWsError', () => {
    const err = protocolError('WS_ERR_MESSAGE_TOO_BIG', '2000 > 1000');
    expect(err).toBeInstanceOf(AttachWsError);
    expect(err).toMatchObject({ name: 'ProtocolError', code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009, message: 'message exceeds maxPayload: 2000 > 1000' });
  });

  test('a handshake rejection knows its HTTP status and headers', () => {
    expect(handshakeError('WS_HANDSHAKE_UNSUPPORTED_VERSION')).toMatchObject({
      name: 'HandshakeError',
      status: 426,
      headers: { 'Sec-WebSocket-Version': '13' },
    });
    expect(handshakeError('WS_HANDSHAKE_SHUTTING_DOWN')).toMatchObject({ status: 503, code: 'WS_HANDSHAKE_SHUTTING_DOWN' });
  });

  test('DeflateClosedError and RedisAdapterError have codes and the catalogue message', () => {
    expect(new DeflateClosedError()).toMatchObject({ code: 'WS_ERR_DEFLATE_CLOSED', message: usageErrors.WS_ERR_DEFLATE_CLOSED });
    const redis = new RedisAdapterError('WS_ERR_REDIS_COMMAND', 'PUBLISH: NOPERM');
    expect(redis).toMatchObject({ code: 'WS_ERR_REDIS_COMMAND', message: 'Redis refused a command: PUBLISH: NOPERM' });
  });

  test('each class recognises its own errors only', () => {
    const p = protocolError('WS_ERR_INVALID_UTF8');
    const h = handshakeError('WS_HANDSHAKE_BAD_KEY');
    expect([ProtocolError.is(p), ProtocolError.is(h), HandshakeError.is(h), HandshakeError.is(p)]).toEqual([true, false, true, false]);
    expect([AttachWsError.is(p), AttachWsError.is(h), AttachWsError.is(new Error('x')), AttachWsError.is(null)]).toEqual([true, true, false, false]);
    const option = codedError(RangeError, 'WS_ERR_INVALID_OPTION', 'bad');
    expect(option).toBeInstanceOf(RangeError);
    expect(AttachWsError.is(option) && option.code).toBe('WS_ERR_INVALID_OPTION');
  });

  test('the brands survive a second copy of the package, where instanceof fails', () => {
    let other!: typeof import('../../src/errors');
    jest.isolateModules(() => {
      other = require('../../src/errors') as typeof import('../../src/errors');
    });
    expect(other.ProtocolError).not.toBe(ProtocolError);
    const foreign = [
      other.protocolError('WS_ERR_INVALID_UTF8'),
      other.handshakeError('WS_HANDSHAKE_BAD_KEY'),
      new other.DeflateClosedError(),
      new other.RedisAdapterError('WS_ERR_REDIS_DROPPED'),
    ];
    expect(foreign[0]).not.toBeInstanceOf(ProtocolError);
    expect([ProtocolError.is(foreign[0]), HandshakeError.is(foreign[1]), DeflateClosedError.is(foreign[2]), RedisAdapterError.is(foreign[3])]).toEqual([true, true, true, true]);
    expect(foreign.every((err) => AttachWsError.is(err))).toBe(true);
  });
});
