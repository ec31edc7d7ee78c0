/**
 * permessage-deflate negotiation, server side (RFC 7692 §5, §7.1).
 *
 * The server walks the client's offers in order and accepts the first it can
 * honour. An offer it cannot honour is declined, never fatal: RFC 7692 puts
 * no duty on a server to fail the handshake (only a *client* must fail the
 * connection on a bad response, §5.1), so nothing here throws for anything a
 * client sends. Invalid server options throw a RangeError.
 */
import type { ExtensionOffer } from './extension-offer';
import {
  MAX_WINDOW_BITS,
  resolveDeflateOptions,
  type DeflateParams,
  type PerMessageDeflateOptions,
  type ResolvedDeflateOptions,
} from './deflate-options';

export type { DeflateParams, PerMessageDeflateOptions } from './deflate-options';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** One offer's parameters, checked. */
interface DeflateOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: the client supports the parameter but names no value. */
  clientMaxWindowBits: number | true | undefined;
}

/** The accepted answer, with what the response header must spell out. */
export interface DeflateAgreement {
  params: DeflateParams;
  /** The `Sec-WebSocket-Extensions` response value, e.g. `permessage-deflate; client_max_window_bits=10`. */
  response: string;
}

/**
 * Accept the first offer named permessage-deflate the server can honour, or
 * return null if there is none (answer without the extension).
 *
 * @example
 * negotiatePerMessageDeflate([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }], {})
 * // → { params: { ..., clientMaxWindowBits: 15 }, response: 'permessage-deflate' }
 */
export function negotiatePerMessageDeflate(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions,
): DeflateAgreement | null {
  const opts = resolveDeflateOptions(options);
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const parsed = parseOffer(offer);
    if (parsed === null) continue;
    const agreement = accept(parsed, opts);
    if (agreement !== null) return agreement;
  }
  return null;
}

const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

/**
 * §5.1: the server MUST decline an offer with an unknown parameter, an
 * invalid value, or the same parameter twice. null = decline.
 */
function parseOffer(offer: ExtensionOffer): DeflateOffer | null {
  const parsed: DeflateOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [name, value] of offer.params) {
    if (seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        // §7.1.1: these parameters have no value.
        if (value !== true) return null;
        if (name === 'server_no_context_takeover') parsed.serverNoContextTakeover = true;
        else parsed.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        // §7.1.2.1: a value is required, 8..15 without leading zeros (quoted or not).
        if (value === true || !WINDOW_BITS.test(value)) return null;
        parsed.serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        // §7.1.2.2: the value is optional; if present, 8..15 without leading zeros.
        if (value !== true && !WINDOW_BITS.test(value)) return null;
        parsed.clientMaxWindowBits = value === true ? true : Number(value);
        break;
      default:
        return null;
    }
  }
  return parsed;
}

/** Combine a valid offer with the server's options; null = cannot honour it. */
function accept(offer: DeflateOffer, opts: ResolvedDeflateOptions): DeflateAgreement | null {
  // §7.1.2.2: without client_max_window_bits in the offer the response MUST NOT
  // carry it, so a server that must limit the client's window declines.
  if (opts.clientMaxWindowBits !== undefined && offer.clientMaxWindowBits === undefined) return null;

  // §7.1.1.1: a server accepting server_no_context_takeover MUST answer with it; it MAY add it unasked.
  const serverNoContextTakeover = offer.serverNoContextTakeover || opts.serverNoContextTakeover;
  // §7.1.1.2: the server MAY answer client_no_context_takeover; echoing the
  // client's hint costs it nothing and lets us drop the inflater between messages.
  const clientNoContextTakeover = offer.clientNoContextTakeover || opts.clientNoContextTakeover;

  // §7.1.2.1: answer server_max_window_bits <= the offered value (MUST if offered, MAY if not).
  const serverMaxWindowBits = minDefined(offer.serverMaxWindowBits, opts.serverMaxWindowBits);

  // §7.1.2.2: a value in the offer is a hint we take (a smaller inflate window
  // for us); a bare parameter lets us name our own limit, if we have one.
  const offeredClientBits = offer.clientMaxWindowBits === true ? undefined : offer.clientMaxWindowBits;
  const clientMaxWindowBits =
    offer.clientMaxWindowBits === undefined ? undefined : minDefined(offeredClientBits, opts.clientMaxWindowBits);

  const response = [PERMESSAGE_DEFLATE];
  if (serverNoContextTakeover) response.push('server_no_context_takeover');
  if (clientNoContextTakeover) response.push('client_no_context_takeover');
  if (serverMaxWindowBits !== undefined) response.push(`server_max_window_bits=${serverMaxWindowBits}`);
  if (clientMaxWindowBits !== undefined) response.push(`client_max_window_bits=${clientMaxWindowBits}`);

  return {
    params: {
      serverNoContextTakeover,
      clientNoContextTakeover,
      serverMaxWindowBits: serverMaxWindowBits ?? MAX_WINDOW_BITS,
      clientMaxWindowBits: clientMaxWindowBits ?? MAX_WINDOW_BITS,
    },
    response: response.join('; '),
  };
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
