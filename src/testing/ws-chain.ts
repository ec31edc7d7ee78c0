/**
 * The chain `request(app).ws(path)` returns: steps are recorded as the test
 * calls them, and run in order once the chain is awaited. Every step that
 * waits has a timeout; every failure says what was expected and what arrived.
 * When the chain ends — passed or failed — the connection is closed and any
 * listener the helper opened is closed too.
 */
import { Opcode } from '../codec/opcodes';
import { describeBytes, describeClose, describeMessage, describeText, describeValue } from './describe';
import { atSite, captureSite, WsTestError, type WsTestErrorCode } from './errors';
import { openingHandshake, type HandshakeOutcome, type RefusedUpgrade, type UpgradeResponse } from './handshake';
import { checkFrame, describeFrame, describeFrameFields, describeFrameSpec, describePayload, type FrameExpectation } from './frames';
import { bytesEqual, deepMatch, runPredicate } from './match';
import { openTransport, type RequestTarget, type Transport } from './target';
import { TestClient, TIMED_OUT, type FrameSpec, type InboxEvent } from './test-client';

export type { FrameExpectation } from './frames';

/** Per-step options. */
export interface ExpectOptions {
  /** How long this step waits, in ms (default: the request's `timeout`). */
  timeout?: number;
}

/** A received message, as `expectMessage`'s conversion sees it. */
export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
}

/** What a text message may be checked against: exact text, a RegExp, or a predicate. */
export type TextExpectation = string | RegExp | ((text: string) => boolean | void);
/** Bytes: exact (array, Uint8Array, Buffer) or a predicate. */
export type BinaryExpectation = Uint8Array | readonly number[] | ((data: Buffer) => boolean | void);
/** A ping's or pong's payload: exact text or bytes, or a predicate. */
export type PayloadExpectation = string | Uint8Array | ((data: Buffer) => boolean | void);

/** The open connection, as `exec` gets it (an escape hatch for what the chain has no step for). */
export interface TestSocket {
  /** The subprotocol the server chose ('' for none). */
  readonly protocol: string;
  /** The extensions the server agreed to ('' for none). */
  readonly extensions: string;
  /** The 101 response. */
  readonly upgrade: UpgradeResponse;
  send(data: string | Uint8Array, options?: { binary?: boolean; fin?: boolean }): void;
  sendFrame(frame: FrameSpec): void;
  close(code?: number, reason?: string): void;
}

export interface ChainSettings {
  /** Default timeout of each step, in ms. */
  timeout: number;
  /** Largest message (and frame) the client accepts, in bytes. */
  maxPayload: number;
}

interface RunState {
  transport: Transport | null;
  outcome: HandshakeOutcome | null;
  client: TestClient | null;
  socket: TestSocket | null;
}

interface Step {
  label: string;
  site: Error;
  kind: 'connection-error' | 'upgrade' | 'frame' | 'other';
  run(state: RunState, timeoutMs: number): Promise<void>;
  timeout: number | undefined;
}

/** A step failed: the code and the sentence after "<step>: ". */
class StepFailure {
  constructor(
    readonly code: WsTestErrorCode,
    readonly message: string,
  ) {}
}

function fail(code: WsTestErrorCode, message: string): never {
  throw new StepFailure(code, message);
}

/**
 * A WebSocket test chain. Build it with the methods below, then `await` it:
 * it resolves once every step passed, or rejects with a `WsTestError`.
 *
 * @example
 * await request(app).ws('/echo').sendText('hi').expectText('hi').close().expectClosed(1000);
 */
export class WsChain implements PromiseLike<void> {
  readonly #target: RequestTarget;
  readonly #path: string;
  readonly #protocols: readonly string[];
  readonly #settings: ChainSettings;
  readonly #site: Error;
  /** Lower-cased name → the header as set; a null value: `unset`. */
  readonly #headers = new Map<string, { name: string; value: string | null }>();
  readonly #steps: Step[] = [];
  #result: Promise<void> | null = null;

  /** @internal Use `request(target).ws(path)`. */
  constructor(target: RequestTarget, path: string, protocols: readonly string[], settings: ChainSettings, site: Error) {
    this.#target = target;
    this.#site = site;
    this.#path = path;
    this.#protocols = protocols;
    this.#settings = settings;
  }

  // ---- the upgrade request ---------------------------------------------------

  /** Set a header of the upgrade request (`Cookie`, `Authorization`, `Origin`…). */
  set(name: string, value: string): this;
  set(headers: Record<string, string>): this;
  set(nameOrHeaders: string | Record<string, string>, value?: string): this {
    this.#notStarted('set');
    const entries = typeof nameOrHeaders === 'string' ? [[nameOrHeaders, value ?? '']] : Object.entries(nameOrHeaders);
    for (const [name, headerValue] of entries) this.#headers.set(name!.toLowerCase(), { name: name!, value: headerValue! });
    return this;
  }

  /** Remove a header of the upgrade request, including one the helper sets (to test the server's refusal). */
  unset(name: string): this {
    this.#notStarted('unset');
    this.#headers.set(name.toLowerCase(), { name, value: null });
    return this;
  }

  /** Check the 101 response (headers, chosen subprotocol): `fn` fails the step by returning false or throwing. */
  expectUpgrade(fn: (response: UpgradeResponse) => boolean | void): this {
    return this.#add('expectUpgrade', describeValue(fn), this.expectUpgrade, 'upgrade', undefined, async (state) => {
      const problem = runPredicate(fn, (state.outcome as { response: UpgradeResponse }).response);
      if (problem !== null) fail('WS_TEST_UPGRADE', `the 101 response did not pass: ${problem}`);
    });
  }

  /**
   * Expect the upgrade to be refused (optionally with this HTTP status, and a
   * body equal to the string or matching the RegExp). Must be the chain's only step.
   */
  expectConnectionError(status?: number, body?: string | RegExp, options?: ExpectOptions): this {
    const args = [status, body].filter((arg) => arg !== undefined).map(describeValue).join(', ');
    return this.#add('expectConnectionError', args, this.expectConnectionError, 'connection-error', options, async (state) => {
      const outcome = state.outcome!;
      const wanted = status === undefined ? 'the upgrade to be refused' : `the upgrade to be refused with ${status}`;
      if (outcome.kind === 'open') fail('WS_TEST_UPGRADE', `expected ${wanted}, but the server accepted it (101 Switching Protocols)`);
      if (outcome.kind === 'failed') fail('WS_TEST_UPGRADE', `expected ${wanted}, but ${outcome.reason}`);
      const refused = outcome.response;
      if (status !== undefined && refused.status !== status) {
        fail('WS_TEST_MISMATCH', `expected ${wanted}, but it was refused with ${describeRefusal(refused)}`);
      }
      if (body !== undefined && !(typeof body === 'string' ? refused.body === body : body.test(refused.body))) {
        fail('WS_TEST_MISMATCH', `expected a refusal body ${describeValue(body)}, but it was refused with ${describeRefusal(refused)}`);
      }
    });
  }

  // ---- sending ---------------------------------------------------------------

  /** Send a text message (non-strings go through `String`). */
  sendText(text: unknown): this {
    const data = String(text);
    return this.#send('sendText', describeText(data), this.sendText, (client) => client.send(data, false));
  }

  /** Send `value` as JSON text. */
  sendJson(value: unknown): this {
    const data = JSON.stringify(value);
    if (data === undefined) throw new TypeError('sendJson: the value has no JSON form');
    return this.#send('sendJson', describeValue(value), this.sendJson, (client) => client.send(data, false));
  }

  /** Send a binary message. */
  sendBinary(data: Uint8Array | ArrayBuffer | readonly number[]): this {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : Uint8Array.from(data);
    return this.#send('sendBinary', describeBytes(bytes), this.sendBinary, (client) => client.send(bytes, true));
  }

  /**
   * Send a message: text for a string, binary for bytes (or as `binary` says);
   * `fin: false` sends a fragment and leaves the message open for the next `send`.
   */
  send(data: string | Uint8Array, options: { binary?: boolean; fin?: boolean } = {}): this {
    const binary = options.binary ?? typeof data !== 'string';
    const label = typeof data === 'string' ? describeText(data) : describeBytes(data);
    return this.#send('send', label, this.send, (client) => client.send(data, binary, options.fin !== false));
  }

  /**
   * Send one frame exactly as described, checks off: any opcode, FIN and RSV
   * bits, masked with a random key unless `mask: false` (or masked with the given key).
   */
  sendFrame(frame: FrameSpec): this {
    return this.#send('sendFrame', describeFrameSpec(frame), this.sendFrame, (client) => client.sendFrame(frame));
  }

  /** Write bytes to the connection as they are (a truncated frame, a lying length). */
  sendRaw(bytes: Uint8Array): this {
    const copy = Uint8Array.from(bytes);
    return this.#send('sendRaw', describeBytes(copy), this.sendRaw, (client) => client.sendRaw(copy));
  }

  /** Send a ping (payload up to 125 bytes). The server's pong is read by `expectPong`. */
  ping(data: string | Uint8Array = ''): this {
    return this.#send('ping', data === '' ? '' : describeValue(data), this.ping, (client) => client.sendControl(Opcode.Ping, data));
  }

  /** Send an unsolicited pong. (Pings from the server are answered automatically.) */
  pong(data: string | Uint8Array = ''): this {
    return this.#send('pong', data === '' ? '' : describeValue(data), this.pong, (client) => client.sendControl(Opcode.Pong, data));
  }

  /** Start the closing handshake: send a close frame (no code: an empty body). Follow with `expectClosed`. */
  close(code?: number, reason?: string): this {
    const args = [code, reason].filter((arg) => arg !== undefined).map((arg) => describeValue(arg)).join(', ');
    return this.#send('close', args, this.close, (client) => {
      try {
        client.close(code, reason);
      } catch (err) {
        fail('WS_TEST_USAGE', (err as Error).message);
      }
    });
  }

  // ---- expecting -------------------------------------------------------------

  /** The next message, converted by `conversion`, equals `expected` (deeply) or passes it as a predicate. */
  expectMessage<T>(
    conversion: (message: ReceivedMessage) => T,
    expected?: T | ((value: T) => boolean | void),
    options?: ExpectOptions,
  ): this {
    const what = expected === undefined ? 'a message' : `a message that converts to ${describeValue(expected)}`;
    return this.#expectMessage('expectMessage', expected, this.expectMessage, what, options, (data, isBinary) => {
      let value: T;
      try {
        value = conversion({ data, isBinary });
      } catch (err) {
        return `${describeMessage(data, isBinary)}, and the conversion threw: ${(err as Error).message}`;
      }
      return checkValue(expected, value);
    });
  }

  /** The next message is text: equal to a string, matching a RegExp, or passing a predicate (any text if omitted). */
  expectText(expected?: TextExpectation, options?: ExpectOptions): this {
    const what =
      expected === undefined
        ? 'a text message'
        : typeof expected === 'function'
          ? 'a text message passing the predicate'
          : expected instanceof RegExp
            ? `a text message matching ${expected}`
            : `the text message ${describeText(expected)}`;
    return this.#expectMessage('expectText', expected, this.expectText, what, options, (data, isBinary) => {
      if (isBinary) return describeMessage(data, true);
      const text = data.toString('utf8');
      if (expected === undefined) return null;
      if (typeof expected === 'function') {
        const problem = runPredicate(expected, text);
        return problem === null ? null : `${describeMessage(data, false)} (${problem})`;
      }
      const ok = expected instanceof RegExp ? expected.test(text) : text === expected;
      return ok ? null : describeMessage(data, false);
    });
  }

  /**
   * The next message is JSON text, deeply equal to `expected` (Jest/Vitest
   * asymmetric matchers such as `expect.objectContaining` work at any depth),
   * or passing a predicate. Any JSON if omitted.
   */
  expectJson<T = Record<string, unknown>>(expected?: T | ((value: T) => boolean | void), options?: ExpectOptions): this {
    const what =
      expected === undefined
        ? 'a JSON message'
        : typeof expected === 'function'
          ? 'a JSON message passing the predicate'
          : `the JSON message ${describeValue(expected)}`;
    return this.#expectMessage('expectJson', expected, this.expectJson, what, options, (data, isBinary) => {
      if (isBinary) return describeMessage(data, true);
      let value: T;
      try {
        value = JSON.parse(data.toString('utf8')) as T;
      } catch (err) {
        return `${describeMessage(data, false)}, which is not JSON (${(err as Error).message})`;
      }
      return checkValue(expected, value);
    });
  }

  /** The next message is binary: equal to the bytes, or passing a predicate (any binary if omitted). */
  expectBinary(expected?: BinaryExpectation, options?: ExpectOptions): this {
    const what =
      expected === undefined
        ? 'a binary message'
        : typeof expected === 'function'
          ? 'a binary message passing the predicate'
          : `the binary message ${describeBytes(Uint8Array.from(expected))}`;
    return this.#expectMessage('expectBinary', expected, this.expectBinary, what, options, (data, isBinary) => {
      if (!isBinary) return describeMessage(data, false);
      if (expected === undefined) return null;
      if (typeof expected === 'function') {
        const problem = runPredicate(expected, data);
        return problem === null ? null : `${describeMessage(data, true)} (${problem})`;
      }
      return bytesEqual(expected, data) ? null : describeMessage(data, true);
    });
  }

  /** The server pinged (optionally with this payload). The client has already answered it with a pong. */
  expectPing(expected?: PayloadExpectation, options?: ExpectOptions): this {
    return this.#expectControl('expectPing', 'ping', expected, this.expectPing, options);
  }

  /** The server sent a pong (to our `ping()`), optionally with this payload. */
  expectPong(expected?: PayloadExpectation, options?: ExpectOptions): this {
    return this.#expectControl('expectPong', 'pong', expected, this.expectPong, options);
  }

  /**
   * The next frame off the wire, whole and unjudged (control frames and
   * fragments included). Frames are a separate stream from messages: use
   * `expectFrame` for protocol-level checks, the other expectations for messages.
   */
  expectFrame(expected: FrameExpectation, options?: ExpectOptions): this {
    const what = typeof expected === 'function' ? 'a frame passing the predicate' : `a frame with ${describeFrameFields(expected)}`;
    return this.#add('expectFrame', describeValue(expected), this.expectFrame, 'frame', options, async (state, timeoutMs) => {
      const client = state.client!;
      const frame = await client.waitFor(
        () => (client.frames.length > 0 ? client.frames.shift() : client.ended || client.failure !== null ? null : undefined),
        timeoutMs,
      );
      if (frame === TIMED_OUT) fail('WS_TEST_TIMEOUT', `expected ${what} within ${timeoutMs} ms, but no frame arrived`);
      if (frame === null) fail('WS_TEST_CLOSED', `expected ${what}, but ${howItEnded(client)} and no frame was left`);
      const problem = checkFrame(expected, frame);
      if (problem !== null) fail('WS_TEST_MISMATCH', `expected ${what}, got ${describeFrame(frame)}${problem === '' ? '' : ` (${problem})`}`);
    });
  }

  /**
   * The connection closes: the server's close frame (with this code, and a
   * reason equal to the string or matching the RegExp) and then the end of
   * the connection. No close frame before the end counts as 1006. Messages
   * not read by the steps before are ignored.
   */
  expectClosed(code?: number, reason?: string | RegExp, options?: ExpectOptions): this {
    const args = [code, reason].filter((arg) => arg !== undefined).map((arg) => describeValue(arg)).join(', ');
    const wanted = code === undefined ? 'the connection to close' : `the connection to close with ${code}${reason === undefined ? '' : ` ${describeValue(reason)}`}`;
    return this.#add('expectClosed', args, this.expectClosed, 'other', options, async (state, timeoutMs) => {
      const client = state.client!;
      const done = await client.waitFor(() => (client.ended || client.failure !== null ? true : undefined), timeoutMs);
      if (done === TIMED_OUT) {
        const received = client.closeReceived;
        fail(
          'WS_TEST_TIMEOUT',
          received === null
            ? `expected ${wanted} within ${timeoutMs} ms, but it is still open${describeUnread(client)}`
            : `expected ${wanted} within ${timeoutMs} ms: the server sent close ${describeClose(received.code, received.reason)} but did not close the connection`,
        );
      }
      if (client.failure !== null) fail('WS_TEST_CLOSED', `expected ${wanted}, but ${client.failure}`);
      const { code: gotCode, reason: gotReason } = client.closeReceived ?? { code: 1006, reason: '' };
      const codeOk = code === undefined || code === gotCode;
      const reasonOk = reason === undefined || (typeof reason === 'string' ? reason === gotReason : reason.test(gotReason));
      if (!codeOk || !reasonOk) fail('WS_TEST_MISMATCH', `expected ${wanted}, but ${howItEnded(client)}`);
    });
  }

  // ---- escape hatches --------------------------------------------------------

  /** Wait `ms` milliseconds (prefer an expectation: sleeping makes tests slow and flaky). */
  wait(ms: number): this {
    return this.#add('wait', String(ms), this.wait, 'other', undefined, () => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Run `fn` with the open connection; a returned promise is awaited (within the step's timeout). */
  exec(fn: (socket: TestSocket) => unknown, options?: ExpectOptions): this {
    return this.#add('exec', fn.name, this.exec, 'other', options, async (state, timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
      });
      try {
        const result = await Promise.race([Promise.resolve().then(() => fn(state.socket!)), timeout]);
        if (result === TIMED_OUT) fail('WS_TEST_TIMEOUT', `the function did not settle within ${timeoutMs} ms`);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  // ---- awaiting --------------------------------------------------------------

  then<R1 = void, R2 = never>(
    onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#result ??= this.#run();
    return this.#result.then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<void | R> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<void> {
    return this.then().finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return 'WsChain';
  }

  // ---- internals -------------------------------------------------------------

  #notStarted(method: string): void {
    if (this.#result !== null) throw new Error(`${method}(): the chain is already running; add steps before awaiting it`);
  }

  #add(
    method: string,
    args: string,
    fn: (...args: never[]) => unknown,
    kind: Step['kind'],
    options: ExpectOptions | undefined,
    run: Step['run'],
  ): this {
    this.#notStarted(method);
    const timeout = options?.timeout;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      throw new RangeError(`${method}: timeout must be a positive number of ms, got ${timeout}`);
    }
    this.#steps.push({ label: `${method}(${args})`, site: captureSite(fn), kind, run, timeout });
    return this;
  }

  #send(method: string, args: string, fn: (...args: never[]) => unknown, send: (client: TestClient) => void): this {
    return this.#add(method, args, fn, 'other', undefined, async (state) => {
      const client = state.client!;
      if (client.ended) fail('WS_TEST_CLOSED', `cannot send: ${howItEnded(client)}`);
      send(client);
    });
  }

  #expectMessage(
    method: string,
    expected: unknown,
    fn: (...args: never[]) => unknown,
    what: string,
    options: ExpectOptions | undefined,
    check: (data: Buffer, isBinary: boolean) => string | null,
  ): this {
    const args = expected === undefined ? '' : describeValue(expected);
    return this.#add(method, args, fn, 'other', options, async (state, timeoutMs) => {
      const client = state.client!;
      const event = await client.waitFor(() => takeEvent(client, 'message') ?? (isOver(client) ? null : undefined), timeoutMs);
      if (event === TIMED_OUT) fail('WS_TEST_TIMEOUT', `expected ${what} within ${timeoutMs} ms, but none arrived${describeUnread(client)}`);
      if (event === null) fail('WS_TEST_CLOSED', `expected ${what}, but ${howItEnded(client)}`);
      const message = event as Extract<InboxEvent, { kind: 'message' }>;
      if (message.compressed) {
        fail('WS_TEST_USAGE', `expected ${what}, got a compressed message: the test client does not inflate permessage-deflate (use expectFrame)`);
      }
      const got = check(message.data, message.isBinary);
      if (got !== null) fail('WS_TEST_MISMATCH', `expected ${what}, got ${got}`);
    });
  }

  #expectControl(
    method: string,
    kind: 'ping' | 'pong',
    expected: PayloadExpectation | undefined,
    fn: (...args: never[]) => unknown,
    options: ExpectOptions | undefined,
  ): this {
    const what = expected === undefined ? `a ${kind}` : `a ${kind} with payload ${describeValue(expected)}`;
    return this.#add(method, expected === undefined ? '' : describeValue(expected), fn, 'other', options, async (state, timeoutMs) => {
      const client = state.client!;
      const event = await client.waitFor(() => takeEvent(client, kind) ?? (isOver(client) ? null : undefined), timeoutMs);
      if (event === TIMED_OUT) fail('WS_TEST_TIMEOUT', `expected ${what} within ${timeoutMs} ms, but none arrived${describeUnread(client)}`);
      if (event === null) fail('WS_TEST_CLOSED', `expected ${what}, but ${howItEnded(client)}`);
      if (expected === undefined) return;
      const problem =
        typeof expected === 'function'
          ? runPredicate(expected, event.data)
          : bytesEqual(typeof expected === 'string' ? Buffer.from(expected) : expected, event.data)
            ? null
            : '';
      if (problem !== null) fail('WS_TEST_MISMATCH', `expected ${what}, got a ${kind} with payload ${describePayload(event.data)}${problem === '' ? '' : ` (${problem})`}`);
    });
  }

  async #run(): Promise<void> {
    const state: RunState = { transport: null, outcome: null, client: null, socket: null };
    const connectLabel = `ws(${describeText(this.#path)})`;
    let current: Step | { label: string; site: Error } = { label: connectLabel, site: this.#site };
    try {
      const steps = this.#steps;
      const refusalIndex = steps.findIndex((step) => step.kind === 'connection-error');
      if (refusalIndex > 0 || (refusalIndex === 0 && steps.length > 1)) {
        current = steps[refusalIndex]!;
        fail('WS_TEST_USAGE', 'expectConnectionError must be the only step of its chain');
      }
      const handshakeTimeout = steps[0]?.kind === 'connection-error' ? (steps[0].timeout ?? this.#settings.timeout) : this.#settings.timeout;
      state.transport = await openTransport(this.#target);
      state.outcome = await openingHandshake(state.transport, {
        path: this.#path,
        ...this.#requestHeaders(),
        protocols: this.#protocols,
        timeoutMs: handshakeTimeout,
      });
      if (refusalIndex === 0) {
        current = steps[0]!;
        await steps[0]!.run(state, handshakeTimeout);
        return;
      }
      const outcome = state.outcome;
      if (outcome.kind === 'refused') fail('WS_TEST_UPGRADE', `the upgrade was refused with ${describeRefusal(outcome.response)}`);
      if (outcome.kind === 'failed') fail('WS_TEST_UPGRADE', `the upgrade failed: ${outcome.reason}`);
      const client = new TestClient(outcome.socket, outcome.head, {
        maxPayload: this.#settings.maxPayload,
        recordFrames: steps.some((step) => step.kind === 'frame'),
        perMessageDeflate: outcome.extensions.split(',').some((offer) => offer.split(';')[0]!.trim() === 'permessage-deflate'),
      });
      state.client = client;
      state.socket = socketFor(client, outcome);
      for (const step of steps) {
        current = step;
        await step.run(state, step.timeout ?? this.#settings.timeout);
      }
    } catch (err) {
      if (err instanceof StepFailure) throw atSite(new WsTestError(err.code, current.label, `${current.label}: ${err.message}`), current.site);
      throw err;
    } finally {
      await this.#cleanUp(state);
    }
  }

  async #cleanUp(state: RunState): Promise<void> {
    try {
      if (state.client !== null) await state.client.shutdown(this.#settings.timeout);
      else if (state.outcome?.kind === 'open') state.outcome.socket.destroy();
    } finally {
      await state.transport?.release();
    }
  }

  #requestHeaders(): { headers: Record<string, string>; unset: string[] } {
    const headers: Record<string, string> = {};
    const unset: string[] = [];
    for (const { name, value } of this.#headers.values()) {
      if (value === null) unset.push(name);
      else headers[name] = value;
    }
    return { headers, unset };
  }
}

function socketFor(client: TestClient, outcome: Extract<HandshakeOutcome, { kind: 'open' }>): TestSocket {
  return {
    protocol: outcome.protocol,
    extensions: outcome.extensions,
    upgrade: outcome.response,
    send: (data, options = {}) => client.send(data, options.binary ?? typeof data !== 'string', options.fin !== false),
    sendFrame: (frame) => client.sendFrame(frame),
    close: (code, reason) => client.close(code, reason),
  };
}

function takeEvent<K extends InboxEvent['kind']>(client: TestClient, kind: K): Extract<InboxEvent, { kind: K }> | undefined {
  const index = client.events.findIndex((event) => event.kind === kind);
  if (index === -1) return undefined;
  return client.events.splice(index, 1)[0] as Extract<InboxEvent, { kind: K }>;
}

/** Nothing more will arrive: the server closed, the connection ended, or the client failed it. */
function isOver(client: TestClient): boolean {
  return client.closeReceived !== null || client.ended || client.failure !== null;
}

function howItEnded(client: TestClient): string {
  if (client.failure !== null) return client.failure;
  const close = client.closeReceived;
  if (close !== null) return `the server closed the connection with ${describeClose(close.code, close.reason)}`;
  if (client.ended) return 'the connection was dropped without a close frame (1006)';
  return 'the connection is open';
}

/** What arrived and was not read, for a timeout's message. */
function describeUnread(client: TestClient): string {
  if (client.events.length === 0) return '';
  const first = client.events[0]!;
  const shown = first.kind === 'message' ? describeMessage(first.data, first.isBinary) : `a ${first.kind}`;
  const more = client.events.length > 1 ? ` and ${client.events.length - 1} more` : '';
  return ` (received meanwhile, unread: ${shown}${more})`;
}

function describeRefusal(refused: RefusedUpgrade): string {
  const statusLine = `${refused.status}${refused.statusText === '' ? '' : ` ${refused.statusText}`}`;
  return refused.body === '' ? `${statusLine} (empty body)` : `${statusLine}, body ${describeText(refused.body)}`;
}

/** A deep-equality or predicate check of a converted value; null on a pass, else the "got …" text. */
function checkValue<T>(expected: T | ((value: T) => boolean | void) | undefined, value: T): string | null {
  if (expected === undefined) return null;
  if (typeof expected === 'function') {
    const problem = runPredicate(expected as (value: T) => boolean | void, value);
    return problem === null ? null : `${describeValue(value)} (${problem})`;
  }
  return deepMatch(expected, value) ? null : describeValue(value);
}
