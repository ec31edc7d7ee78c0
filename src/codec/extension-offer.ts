/**
 * One extension offered in `Sec-WebSocket-Extensions` (RFC 6455 §9.1), e.g.
 * `permessage-deflate; client_max_window_bits; server_max_window_bits=10`.
 * Parameters keep their order and duplicates, so negotiation can refuse an
 * offer that repeats one (RFC 7692 §7). A parameter without a value is `true`;
 * a quoted value arrives unquoted.
 */
export interface ExtensionOffer {
  readonly name: string;
  readonly params: ReadonlyArray<readonly [name: string, value: string | true]>;
}
