import type { DecoderSink } from '../codec/decoder';
import type { PerMessageDeflate } from '../codec/permessage-deflate';
import { isValidUtf8 } from '../codec/utf8';
import { protocolError, type ProtocolError } from '../errors';
import { kDeliver, kFail, kPauseReading, kPeerClose, kPeerPing, kPeerPong, kResumeReading, PauseReason } from './symbols';
import type { WebSocket } from './websocket';

/**
 * The decoder's sink for one connection: turns decoded frames into calls on
 * the WebSocket, and inflates compressed messages in order (reading pauses
 * while zlib works, so a later message can never overtake an earlier one).
 */
export class Receiver implements DecoderSink {
  constructor(
    private readonly ws: WebSocket,
    private readonly deflate: PerMessageDeflate | null,
  ) {}

  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    if (!compressed) {
      this.ws[kDeliver](isBinary ? data : data.toString('utf8'), isBinary);
      return;
    }
    const deflate = this.deflate;
    if (deflate === null) {
      // The decoder only sets `compressed` when RSV1 is allowed, i.e. deflate was agreed.
      this.ws[kFail](protocolError('WS_ERR_RESERVED_BITS'));
      return;
    }
    const ws = this.ws;
    ws[kPauseReading](PauseReason.Inflate);
    deflate.decompress(data, (err, inflated) => {
      if (err || inflated === undefined) {
        ws[kFail](err ?? protocolError('WS_ERR_INVALID_COMPRESSED_DATA'));
        return;
      }
      if (!isBinary && !isValidUtf8(inflated)) {
        ws[kFail](protocolError('WS_ERR_INVALID_UTF8'));
        return;
      }
      ws[kDeliver](isBinary ? inflated : inflated.toString('utf8'), isBinary);
      ws[kResumeReading](PauseReason.Inflate);
    });
  }

  onPing(data: Buffer): void {
    this.ws[kPeerPing](data);
  }

  onPong(data: Buffer): void {
    this.ws[kPeerPong](data);
  }

  onClose(code: number, reason: string): void {
    this.ws[kPeerClose](code, reason);
  }

  onError(err: ProtocolError): void {
    this.ws[kFail](err);
  }
}
