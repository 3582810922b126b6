// Output capture of one task (docs/agent-protocol-reference.md, "Output"): the first 24576 bytes
// are kept and uploaded in chunks of at most 4096 bytes (every second, or as soon as 4096 are
// waiting); the rest is only counted in `Dropped`. Unlike the reference agent, the final flush
// sends every byte still waiting, not only whole 4 KiB chunks.

import { LIMITS } from '../tat/limits.js';

export interface OutputChunk {
  Index: number;
  Output: string;
  Dropped: number;
}

export class OutputCollector {
  private kept = 0;
  private dropped = 0;
  private reportedDropped = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private nextIndex = 0;

  constructor(private readonly emit: (chunk: OutputChunk) => void) {}

  write(data: Buffer): void {
    const room = LIMITS.outputBytes - this.kept;
    const take = Math.min(room, data.length);
    if (take > 0) {
      this.pending.push(take === data.length ? data : data.subarray(0, take));
      this.pendingBytes += take;
      this.kept += take;
    }
    this.dropped += data.length - take;
    if (this.pendingBytes >= LIMITS.outputChunkBytes) this.flush(false);
  }

  /** The once-a-second flush; it stops once output is being dropped (as the reference does). */
  tick(): void {
    if (this.dropped === 0) this.flush(true);
  }

  /** Sends everything left; returns the last chunk index used, or null when nothing was sent. */
  finish(): number | null {
    this.flush(true);
    if (this.dropped > this.reportedDropped) this.send(Buffer.alloc(0));
    return this.nextIndex === 0 ? null : this.nextIndex - 1;
  }

  /** Sends whole 4 KiB chunks, and with `all` the remainder as well. */
  private flush(all: boolean): void {
    if (this.pendingBytes === 0) return;
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const size = LIMITS.outputChunkBytes;
    while (buf.length >= size || (all && buf.length > 0)) {
      const n = Math.min(size, buf.length);
      this.send(buf.subarray(0, n));
      buf = buf.subarray(n);
    }
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
  }

  private send(bytes: Buffer): void {
    this.reportedDropped = this.dropped;
    this.emit({ Index: this.nextIndex++, Output: bytes.toString('base64'), Dropped: this.dropped });
  }
}
