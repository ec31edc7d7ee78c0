import type { Duplex } from 'node:stream';

/**
 * Coalesces writes: the first write to a socket in an event-loop turn corks
 * it, and one `setImmediate` per turn uncorks every corked socket, so all
 * frames produced while reads are handled (echoes, pongs, broadcasts) leave in
 * one `writev` per socket instead of one syscall per frame. The check phase
 * runs right after the poll phase, so this adds no timer latency.
 */
const corked: Duplex[] = [];
let scheduled = false;

function uncorkAll(): void {
  scheduled = false;
  // A socket may be corked again by a write made while uncorking another
  // (a 'drain' handler that sends): it then lands in the next turn's list.
  const sockets = corked.splice(0, corked.length);
  for (let i = 0; i < sockets.length; i++) {
    const socket = sockets[i]!;
    if (socket.writableCorked > 0) socket.uncork();
  }
}

/** Cork `socket` until the end of this event-loop turn (idempotent per turn). */
export function corkForTurn(socket: Duplex): void {
  if (socket.writableCorked > 0) return;
  socket.cork();
  corked.push(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(uncorkAll);
  }
}

/** Flush now (e.g. before ending the socket). */
export function uncorkNow(socket: Duplex): void {
  while (socket.writableCorked > 0) socket.uncork();
}
