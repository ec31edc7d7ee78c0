'use strict';
// Client-side RFC 6455 helpers for the load generator: build masked frames
// once, parse replies by reading headers only (payloads are skipped unless a
// caller asks to see them).

const crypto = require('node:crypto');
const zlib = require('node:zlib');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455 §1.3 sample key; reused on purpose
const ACCEPT = crypto.createHash('sha1').update(KEY + GUID).digest('base64');
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** The upgrade request, as bytes. `deflate` offers permessage-deflate. */
function upgradeRequest(path, port, deflate) {
  let s =
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`;
  if (deflate) {
    // Both no_context_takeover: every message is compressed on its own, so one
    // pre-built compressed frame can be repeated and every reply inflated alone.
    s += 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n';
  }
  return Buffer.from(s + '\r\n', 'latin1');
}

/** One masked frame (FIN set). */
function maskedFrame(opcode, payload, rsv1 = false) {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + ext + 4 + len);
  out[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) { out[1] = 0x80 | 126; out.writeUInt16BE(len, 2); }
  else { out[1] = 0x80 | 127; out.writeUInt32BE(0, 2); out.writeUInt32BE(len, 6); }
  const m = 2 + ext;
  MASK.copy(out, m);
  for (let i = 0; i < len; i++) out[m + 4 + i] = payload[i] ^ MASK[i & 3];
  return out;
}

/** `n` copies of `frame` back to back, for one write of `k` frames = subarray(0, k*len). */
function repeat(frame, n) {
  const out = Buffer.allocUnsafe(frame.length * n);
  for (let i = 0; i < n; i++) frame.copy(out, i * frame.length);
  return out;
}

/** permessage-deflate payload of one message (no context takeover). */
function deflateMessage(buf) {
  const z = zlib.deflateRawSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  if (z.readUInt32BE(z.length - 4) !== 0x0000ffff) throw new Error('deflate: no sync-flush tail');
  // RFC 7692 §7.2.1: drop the trailing 00 00 ff ff of the sync flush.
  return z.subarray(0, z.length - 4);
}

function inflateMessage(buf) {
  return zlib.inflateRawSync(Buffer.concat([buf, DEFLATE_TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/**
 * Counts server frames by reading headers and skipping payloads. Server frames
 * are unmasked. `onFrame(opcode, rsv1, payload|null)` fires per frame; payloads
 * are gathered only when `wantPayload(opcode, rsv1)` says so (rarely).
 */
class FrameCounter {
  constructor(onFrame, wantPayload) {
    this.onFrame = onFrame;
    this.wantPayload = wantPayload || null;
    this.hdr = Buffer.allocUnsafe(14);
    this.hdrLen = 0;
    this.skip = -1; // payload bytes still to skip; -1 = reading a header
    this.opcode = 0;
    this.rsv1 = false;
    this.parts = null;
  }

  push(chunk) {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      if (this.skip >= 0) {
        const n = Math.min(this.skip, len - i);
        if (this.parts !== null) this.parts.push(Buffer.from(chunk.subarray(i, i + n))); // chunk may be a reused read buffer
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.#done();
        continue;
      }
      // Fast path: a whole header inside this chunk.
      let b0, b1, need, plen;
      if (this.hdrLen === 0 && len - i >= 2) {
        b0 = chunk[i];
        b1 = chunk[i + 1] & 0x7f;
        need = b1 < 126 ? 2 : b1 === 126 ? 4 : 10;
        if (len - i >= need) {
          plen = b1 < 126 ? b1 : b1 === 126 ? chunk.readUInt16BE(i + 2) : chunk.readUInt32BE(i + 6) + chunk.readUInt32BE(i + 2) * 4294967296;
          i += need;
          this.#start(b0, plen);
          continue;
        }
      }
      // Slow path: header straddles chunks.
      this.hdr[this.hdrLen++] = chunk[i++];
      if (this.hdrLen < 2) continue;
      b1 = this.hdr[1] & 0x7f;
      need = b1 < 126 ? 2 : b1 === 126 ? 4 : 10;
      if (this.hdrLen < need) continue;
      plen = b1 < 126 ? b1 : b1 === 126 ? this.hdr.readUInt16BE(2) : this.hdr.readUInt32BE(6) + this.hdr.readUInt32BE(2) * 4294967296;
      this.hdrLen = 0;
      this.#start(this.hdr[0], plen);
    }
  }

  #start(b0, plen) {
    this.opcode = b0 & 0x0f;
    this.rsv1 = (b0 & 0x40) !== 0;
    this.parts = this.wantPayload !== null && this.wantPayload(this.opcode, this.rsv1) ? [] : null;
    this.skip = plen;
    if (plen === 0) this.#done();
  }

  #done() {
    const payload = this.parts === null ? null : Buffer.concat(this.parts);
    this.parts = null;
    this.skip = -1;
    this.onFrame(this.opcode, this.rsv1, payload);
  }
}

/**
 * Raw-TCP stand-in for FrameCounter: the echo server returns our own masked
 * frames verbatim, so "frames" are counted by length.
 */
class LengthCounter {
  constructor(frameLen, onFrames) {
    this.frameLen = frameLen;
    this.onFrames = onFrames;
    this.rem = 0;
  }

  push(chunk) {
    const total = this.rem + chunk.length;
    const k = Math.floor(total / this.frameLen);
    this.rem = total - k * this.frameLen;
    if (k > 0) this.onFrames(k);
  }
}

module.exports = {
  KEY, ACCEPT, upgradeRequest, maskedFrame, repeat, deflateMessage, inflateMessage,
  FrameCounter, LengthCounter,
};
