// Output excerpts for workflow history: the head and the tail of what TAT kept of a task's
// output, so that a result stays a few KB whatever the task printed (Temporal refuses payloads
// over ~2 MB; the full output stays in TAT).

export const HEAD_BYTES = 1024;
export const TAIL_BYTES = 3 * 1024;

/** The largest excerpt `outputExcerpt` returns, in UTF-8 bytes (markers included). */
export const MAX_EXCERPT_BYTES = HEAD_BYTES + TAIL_BYTES + 128;

const isContinuation = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;

/** The first `n` bytes or fewer, not cutting a UTF-8 character. */
function headOf(buf: Buffer, n: number): Buffer {
  let end = n;
  while (end > 0 && isContinuation(buf[end])) end--;
  return buf.subarray(0, end);
}

/** The last `n` bytes or fewer, not cutting a UTF-8 character. */
function tailOf(buf: Buffer, n: number): Buffer {
  let start = buf.length - n;
  while (start < buf.length && isContinuation(buf[start])) start++;
  return buf.subarray(start);
}

/**
 * `raw` whole when it is short, else its first KiB, a marker saying how much was left out, and
 * its last 3 KiB. `dropped` (bytes TAT did not keep past its 24 KB) is noted at the end.
 */
export function outputExcerpt(raw: Buffer, dropped = 0): string {
  let text: string;
  if (raw.length <= HEAD_BYTES + TAIL_BYTES) text = raw.toString('utf8');
  else {
    const head = headOf(raw, HEAD_BYTES);
    const tail = tailOf(raw, TAIL_BYTES);
    const omitted = raw.length - head.length - tail.length;
    text = `${head.toString('utf8')}\n…[${omitted} bytes omitted]…\n${tail.toString('utf8')}`;
  }
  return dropped > 0 ? `${text}\n…[${dropped} more bytes not kept by TAT]` : text;
}

/**
 * A cap on the excerpts of one activity result: after `maxBytes` of them, outputs are left out
 * (the result still says how many bytes each task printed).
 */
export class OutputBudget {
  private used = 0;
  constructor(private readonly maxBytes: number) {}

  /** The excerpt if it still fits, else undefined. */
  take(excerpt: string): string | undefined {
    const size = Buffer.byteLength(excerpt, 'utf8');
    if (this.used + size > this.maxBytes) return undefined;
    this.used += size;
    return excerpt;
  }
}
