/**
 * When a view into a read chunk may be kept as it is: keeping it keeps the
 * whole chunk (its ArrayBuffer) alive, so only a view that covers most of
 * that memory (7/8) is kept; a smaller one is copied by the caller. The one
 * rule for the decoder's message pieces and the socket's held messages.
 */
export function coversItsMemory(view: Uint8Array): boolean {
  return view.length * 8 >= view.buffer.byteLength * 7;
}
