// Output capture rules (docs/agent-protocol-reference.md, "Output"): 24576 bytes kept, the rest
// counted in Dropped, chunks of at most 4096 bytes in order, and nothing lost at the final flush.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutputCollector, type OutputChunk } from '../../agent/output.js';
import { REFERENCE_BACKOFF, reconnectDelayMs } from '../../agent/session.js';

function collect(): { chunks: OutputChunk[]; out: OutputCollector } {
  const chunks: OutputChunk[] = [];
  return { chunks, out: new OutputCollector((c) => chunks.push(c)) };
}

const bytesOf = (chunks: OutputChunk[]) => Buffer.concat(chunks.map((c) => Buffer.from(c.Output, 'base64')));

describe('OutputCollector', () => {
  test('small output waits for the tick or the end, then goes whole', () => {
    const { chunks, out } = collect();
    out.write(Buffer.from('hello\n'));
    assert.equal(chunks.length, 0);
    out.tick();
    assert.deepEqual(chunks, [{ Index: 0, Output: Buffer.from('hello\n').toString('base64'), Dropped: 0 }]);
    assert.equal(out.finish(), 0);
  });

  test('4096 bytes waiting are sent at once, in whole chunks', () => {
    const { chunks, out } = collect();
    out.write(Buffer.alloc(5000, 'a'));
    assert.equal(chunks.length, 1);
    assert.equal(Buffer.from(chunks[0]!.Output, 'base64').length, 4096);
    assert.equal(out.finish(), 1);
    assert.equal(bytesOf(chunks).length, 5000);
  });

  test('over 24 KB: the first 24576 bytes kept, the rest counted, the tail of the kept part not lost', () => {
    const { chunks, out } = collect();
    const data = Buffer.alloc(30000);
    for (let i = 0; i < data.length; i++) data[i] = 97 + (i % 26);
    for (let i = 0; i < data.length; i += 1000) out.write(data.subarray(i, i + 1000));
    const last = out.finish();
    assert.equal(last, chunks.length - 1);
    assert.deepEqual(
      chunks.map((c) => c.Index),
      chunks.map((_, i) => i),
    );
    assert.ok(chunks.every((c) => Buffer.from(c.Output, 'base64').length <= 4096));
    assert.deepEqual(bytesOf(chunks), data.subarray(0, 24576));
    assert.equal(chunks.at(-1)!.Dropped, 30000 - 24576);
  });

  test('a Dropped-only upload carries the final count when nothing is left to send', () => {
    const { chunks, out } = collect();
    out.write(Buffer.alloc(24576, 'x'));
    assert.equal(chunks.length, 6);
    out.write(Buffer.alloc(100, 'y'));
    out.finish();
    assert.equal(chunks.length, 7);
    assert.equal(chunks[6]!.Output, '');
    assert.equal(chunks[6]!.Dropped, 100);
  });

  test('no output: no upload, FinalLogIndex null', () => {
    const { chunks, out } = collect();
    assert.equal(out.finish(), null);
    assert.equal(chunks.length, 0);
  });
});

describe('reconnect back-off', () => {
  test('after a dropped connection 3–8 s, then up to 16, 32 … 512 s', () => {
    for (let i = 0; i < 200; i++) {
      const d0 = reconnectDelayMs(0, REFERENCE_BACKOFF);
      assert.ok(d0 >= 3000 && d0 <= 8000, `${d0}`);
      const d3 = reconnectDelayMs(3, REFERENCE_BACKOFF);
      assert.ok(d3 >= 3000 && d3 <= 64000, `${d3}`);
      const d20 = reconnectDelayMs(20, REFERENCE_BACKOFF);
      assert.ok(d20 >= 3000 && d20 <= 512000, `${d20}`);
    }
    assert.ok(reconnectDelayMs(5, { ...REFERENCE_BACKOFF, maxSeconds: 10 }) <= 10000);
  });
});
