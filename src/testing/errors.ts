/**
 * The one error a chain fails with. Its message names the step, what it
 * expected and what arrived instead; its stack points at the line of the
 * test that added the step (the chain runs later, from a timer or a socket
 * event, where the stack would only show the helper).
 */
export type WsTestErrorCode =
  /** Something arrived, and it was not what the step expected. */
  | 'WS_TEST_MISMATCH'
  /** Nothing the step could use arrived within its timeout. */
  | 'WS_TEST_TIMEOUT'
  /** The connection closed (or failed) before the step was done. */
  | 'WS_TEST_CLOSED'
  /** The upgrade did not happen (refused, or the 101 was invalid), or happened when a refusal was expected. */
  | 'WS_TEST_UPGRADE'
  /** The chain itself is wrong (steps after it ran, a close code that cannot be sent…). */
  | 'WS_TEST_USAGE';

export class WsTestError extends Error {
  override readonly name = 'WsTestError';
  constructor(
    readonly code: WsTestErrorCode,
    /** The step that failed, as written: `expectText("hi")`. */
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where a step was added, captured when the test calls the chain method. */
export function captureSite(method: (...args: never[]) => unknown): Error {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, method);
  return site as Error;
}

/** Give `error` the stack of the step's call site. */
export function atSite(error: WsTestError, site: Error): WsTestError {
  const frames = (site.stack ?? '').split('\n').slice(1).join('\n');
  if (frames !== '') error.stack = `${error.name}: ${error.message}\n${frames}`;
  return error;
}
