import type { Duplex } from 'node:stream';

/**
 * HTTP/1.1 lets a client reuse a keep-alive connection and pipeline requests,
 * so an upgrade can arrive while Node is still writing the answer to an earlier
 * request on the same socket. RFC 7230 §6.3.2: "A server MUST send its
 * responses to those requests in the same order that the requests were
 * received" — the upgrade's answer (101 or a refusal) has to wait.
 *
 * Node keeps the response it is writing in `socket._httpMessage` (the later
 * ones queue behind it and take its place when it finishes); that property
 * is what `ServerResponse#assignSocket` refuses to overwrite with
 * ERR_HTTP_SOCKET_ASSIGNED.
 */
interface InFlightResponse {
  readonly writableNeedDrain: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
  off(event: 'finish' | 'close', listener: () => void): unknown;
  emit(event: 'drain'): boolean;
}
type HttpSocket = Duplex & { _httpMessage?: InFlightResponse | null };

/** The response Node is still writing on `socket`, if any. */
export function responseInFlight(socket: Duplex): InFlightResponse | null {
  const message = (socket as HttpSocket)._httpMessage;
  return message ?? null;
}

/**
 * The handshake deadline of an upgrade that had to wait for earlier responses:
 * armed when the upgrade arrived, it bounds the wait and then, handed to the
 * pending upgrade, the middleware's time too. One `handshakeTimeoutMs` from
 * arrival for the whole upgrade, not one for the wait and another after it.
 * (Upgrades that need not wait use the server's shared DeadlineQueue instead.)
 */
export class ArrivalDeadline {
  readonly #timer: NodeJS.Timeout;
  #expired: () => void;
  #cancelled = false;

  constructor(timeoutMs: number, expired: () => void) {
    this.#expired = expired;
    this.#timer = setTimeout(() => this.#expire(), timeoutMs);
    this.#timer.unref();
  }

  /** From now on the deadline calls `expired` instead. */
  onExpiry(expired: () => void): void {
    this.#expired = expired;
  }

  /** Idempotent. */
  cancel(): void {
    this.#cancelled = true;
    clearTimeout(this.#timer);
  }

  #expire(): void {
    if (!this.#cancelled) this.#expired();
  }
}

/**
 * Call `proceed` once no earlier response is being written on `socket`, or
 * `giveUp` when `deadline` expires or the socket closes first. Exactly one of
 * the two is called, at most once; the deadline is left armed for `proceed`
 * to hand on (`giveUp` cancels it). Callers check `responseInFlight` first:
 * with none in flight there is nothing to wait for. `proceed` runs from an
 * event listener: it must not throw.
 */
export function afterEarlierResponses(
  socket: Duplex,
  deadline: ArrivalDeadline,
  proceed: () => void,
  giveUp: (reason: 'timeout' | 'closed') => void,
): void {
  let current = responseInFlight(socket);
  if (current === null) {
    proceed();
    return;
  }
  // Node stopped forwarding the socket's 'drain' to the response when it handed
  // the socket to the upgrade listener; a response streamed with pipe() would
  // stall on backpressure forever without this.
  const forwardDrain = (): void => {
    if (current?.writableNeedDrain === true) current.emit('drain');
  };
  const finish = (outcome: () => void): void => {
    current?.off('finish', next);
    current?.off('close', next);
    socket.off('drain', forwardDrain);
    socket.off('close', closed);
    current = null;
    outcome();
  };
  const stop = (reason: 'timeout' | 'closed'): void => {
    deadline.cancel();
    finish(() => giveUp(reason));
  };
  const closed = (): void => stop('closed');
  // Node's own 'finish' listener ran first: it detached that response and
  // assigned the next queued one, if any, to the socket.
  const next = (): void => {
    if (socket.destroyed) return closed();
    const following = responseInFlight(socket);
    if (following === null) {
      deadline.onExpiry(noop); // proceed hands the deadline on (or cancels it)
      return finish(proceed);
    }
    current?.off('finish', next);
    current?.off('close', next);
    current = following;
    following.once('finish', next);
    following.once('close', next);
  };
  deadline.onExpiry(() => stop('timeout'));
  current.once('finish', next);
  current.once('close', next);
  socket.on('drain', forwardDrain);
  socket.once('close', closed);
}

function noop(): void {}
