'use strict';
// Server frames whose payload starts with an 8-digit hex sequence number (the
// overload benchmark's messages): parses headers, reads those 8 digits, skips
// the rest. No allocation per frame.

const HEX = new Uint8Array(256);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x61 + i] = 10 + i;

/** `seqPayload(seq, size)`: a text payload of `size` bytes starting with `seq` in hex. */
function seqPayload(seq, size) {
  const p = Buffer.alloc(size, 0x78);
  p.write(seq.toString(16).padStart(8, '0'), 0, 'latin1');
  return p;
}

class SeqFrames {
  /** `onSeq(seq)` per data frame; `onOther(opcode)` for anything else (a close frame). */
  constructor(onSeq, onOther) {
    this.onSeq = onSeq;
    this.onOther = onOther;
    this.hdr = Buffer.allocUnsafe(14);
    this.hdrLen = 0;
    this.skip = -1; // payload bytes left; -1 = reading a header
    this.op = 0;
    this.seq = 0;
    this.digits = 0;
  }

  push(chunk) {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      if (this.skip >= 0) {
        while (this.digits < 8 && this.skip > 0 && i < len) {
          this.seq = this.seq * 16 + HEX[chunk[i]];
          this.digits++;
          this.skip--;
          i++;
        }
        const n = Math.min(this.skip, len - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.#done();
        continue;
      }
      this.hdr[this.hdrLen++] = chunk[i++];
      if (this.hdrLen < 2) continue;
      const b1 = this.hdr[1] & 0x7f;
      const need = b1 < 126 ? 2 : b1 === 126 ? 4 : 10;
      if (this.hdrLen < need) continue;
      const plen = b1 < 126 ? b1 : b1 === 126 ? this.hdr.readUInt16BE(2) : this.hdr.readUInt32BE(6);
      this.op = this.hdr[0] & 0x0f;
      this.hdrLen = 0;
      this.seq = 0;
      this.digits = this.op === 1 || this.op === 2 ? 0 : 8;
      this.skip = plen;
      if (plen === 0) this.#done();
    }
  }

  #done() {
    this.skip = -1;
    if (this.op === 1 || this.op === 2) this.onSeq(this.seq);
    else this.onOther(this.op);
  }
}

module.exports = { SeqFrames, seqPayload };
