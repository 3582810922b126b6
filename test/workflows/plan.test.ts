// Planning a rollout (workflows/engine/plan.ts; runbooks.md, "Batches and windows"): sizes, their
// resolution against the fleet, lock-step batches, window and ramp-up concurrency, and chunks.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chunk,
  chunkByKind,
  MAX_INSTANCES_PER_INVOCATION,
  parseSize,
  planBatches,
  rampUpLimit,
  resolveConcurrency,
  resolveSize,
  type Size,
} from '../../workflows/engine/plan.js';
import { planRun } from '../../workflows/engine/planning.js';
import { exactFloor, prng } from '../helpers/numbers.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `ins-${i}`);
const sizesOf = (batches: unknown[][]): number[] => batches.map((b) => b.length);

describe('parseSize', () => {
  const accepted: [string | number, Size][] = [
    [1, 1],
    [7, 7],
    [1000, 1000],
    ['1', 1],
    ['5', 5],
    [' 5 ', 5],
    ['007', 7],
    ['250', 250],
    ['10%', '10%'],
    ['100%', '100%'],
    ['0.5%', '0.5%'],
    ['33.3%', '33.3%'],
    [' 25% ', '25%'],
    ['010%', '10%'],
    ['50.0%', '50%'],
    ['12.50%', '12.5%'],
  ];
  for (const [input, want] of accepted)
    test(`accepts ${JSON.stringify(input)} as ${JSON.stringify(want)}`, () => {
      assert.equal(parseSize(input), want);
    });

  const rejected: (string | number)[] = [
    '0',
    '00',
    '-1',
    '1.5',
    '0%',
    '0.0%',
    '101%',
    '100.1%',
    '-5%',
    'abc',
    '',
    '   ',
    '%',
    '10 %',
    '5%%',
    '.5%',
    '1e2',
    '0x10',
    '1,2',
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ];
  for (const input of rejected)
    test(`rejects ${JSON.stringify(input) ?? String(input)}`, () => {
      assert.throws(() => parseSize(input), Error);
    });

  test('the error says what a size is', () => {
    assert.throws(() => parseSize('abc'), /count.*percentage/);
    assert.throws(() => parseSize('0'), /≥ 1/);
    assert.throws(() => parseSize('101%'), /\(0, 100\]/);
  });
});

describe('resolveSize', () => {
  test('a count is used as is, even when larger than the fleet', () => {
    assert.equal(resolveSize(1, 10), 1);
    assert.equal(resolveSize(5, 10), 5);
    assert.equal(resolveSize(50, 7), 50);
  });

  // [size, targets, batch size]: max(1, floor(pct × N)) of ALL targets
  const cases: [Size, number, number][] = [
    ['10%', 5, 1],
    ['10%', 25, 2],
    ['10%', 10, 1],
    ['10%', 19, 1],
    ['10%', 20, 2],
    ['10%', 100, 10],
    ['29%', 100, 29],
    ['57%', 100, 57],
    ['58%', 100, 58],
    ['7%', 100, 7],
    ['14%', 100, 14],
    ['28%', 100, 28],
    ['55%', 100, 55],
    ['33.3%', 3, 1],
    ['33.3%', 1000, 333],
    ['14.3%', 7, 1],
    ['28.6%', 7, 2],
    ['57.1%', 7, 3],
    ['50%', 1, 1],
    ['50%', 2, 1],
    ['50%', 3, 1],
    ['50%', 5, 2],
    ['1%', 1, 1],
    ['1%', 99, 1],
    ['1%', 250, 2],
    ['0.1%', 999, 1],
    ['0.1%', 5000, 5],
    ['12.5%', 8, 1],
    ['37.5%', 8, 3],
    ['99%', 100, 99],
    ['99%', 1000, 990],
    ['100%', 1, 1],
    ['100%', 7, 7],
    ['100%', 1000, 1000],
  ];
  for (const [size, n, want] of cases)
    test(`${size} of ${n} → ${want}`, () => {
      assert.equal(resolveSize(size, n), want);
    });

  test('every whole percentage of every fleet up to 500 is max(1, floor(pct × N)), exactly', () => {
    for (let pct = 1; pct <= 100; pct++)
      for (let n = 1; n <= 500; n++) {
        const size = parseSize(`${pct}%`);
        assert.equal(resolveSize(size, n), Math.max(1, exactFloor(`${pct}%`, n)), `${pct}% of ${n}`);
      }
  });

  test('every percentage with one decimal of fleets up to 200 is max(1, floor(pct × N)), exactly', () => {
    for (let tenths = 1; tenths <= 1000; tenths++)
      for (let n = 1; n <= 200; n++) {
        const pct = `${(tenths / 10).toFixed(1)}%`;
        assert.equal(resolveSize(parseSize(pct), n), Math.max(1, exactFloor(pct, n)), `${pct} of ${n}`);
      }
  });
});

describe('planBatches', () => {
  // [targets, sizes, batch sizes]
  const cases: [number, Size[], number[]][] = [
    // the default shape
    [1, [1, '10%', '50%'], [1]],
    [2, [1, '10%', '50%'], [1, 1]],
    [3, [1, '10%', '50%'], [1, 1, 1]],
    [5, [1, '10%', '50%'], [1, 1, 2, 1]],
    [10, [1, '10%', '50%'], [1, 1, 5, 3]],
    [25, [1, '10%', '50%'], [1, 2, 12, 10]],
    [100, [1, '10%', '50%'], [1, 10, 50, 39]],
    // the last entry repeats until all targets are planned
    [7, [2], [2, 2, 2, 1]],
    [10, ['25%'], [2, 2, 2, 2, 2]],
    [10, [1, 3], [1, 3, 3, 3]],
    [12, [1, 5, '25%'], [1, 5, 3, 3]],
    [4, ['10%'], [1, 1, 1, 1]],
    // sizes larger than the fleet
    [7, [50], [7]],
    [5, [1, 100], [1, 4]],
    [3, [10, 1], [3]],
    [3, ['100%', 1], [3]],
    // more entries than needed: the rest are not used
    [3, [1, 2, 3, 4, 5], [1, 2]],
    // no targets: no batches
    [0, [1, '10%', '50%'], []],
  ];
  for (const [n, sizes, want] of cases)
    test(`${n} target(s) with ${JSON.stringify(sizes)} → ${JSON.stringify(want)}`, () => {
      const targets = ids(n);
      const batches = planBatches(targets, sizes);
      assert.deepEqual(sizesOf(batches), want);
      assert.deepEqual(batches.flat(), targets);
    });

  test('tiny fleets with the default [1, "10%", "50%"]: one target per batch', () => {
    assert.deepEqual(planBatches(['ins-a'], [1, '10%', '50%']), [['ins-a']]);
    assert.deepEqual(planBatches(['ins-a', 'ins-b'], [1, '10%', '50%']), [['ins-a'], ['ins-b']]);
  });

  test('needs at least one size', () => {
    assert.throws(() => planBatches(ids(3), []), /at least one size/);
    assert.throws(() => planBatches([], []), /at least one size/);
  });

  test('keeps the targets themselves, and does not change its input', () => {
    const targets = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const sizes: Size[] = [1, '50%'];
    const batches = planBatches(targets, sizes);
    assert.equal(batches[0]![0], targets[0]);
    assert.equal(batches[2]![0], targets[2]);
    assert.deepEqual(
      targets.map((t) => t.id),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(sizes, [1, '50%']);
    batches[0]!.push({ id: 'z' });
    assert.equal(targets.length, 3);
  });

  test('property: every target is planned exactly once, in order, in batches of the planned sizes', () => {
    const lists: Size[][] = [
      [1],
      [2],
      [1, '10%', '50%'],
      ['1%'],
      ['100%'],
      [1, 5, '25%'],
      ['33.3%', 1],
      [3, '0.5%', 7],
      [1000],
    ];
    const rand = prng(42);
    for (let i = 0; i < 60; i++) {
      const k = 1 + Math.floor(rand() * 5);
      lists.push(
        Array.from({ length: k }, (): Size => {
          if (rand() < 0.5) return 1 + Math.floor(rand() * 20);
          return parseSize(`${(1 + Math.floor(rand() * 1000)) / 10}%`);
        }),
      );
    }
    for (const sizes of lists)
      for (let n = 0; n <= 230; n++) {
        const targets = ids(n);
        const batches = planBatches(targets, sizes);
        const what = `${n} targets with ${JSON.stringify(sizes)}`;
        assert.deepEqual(batches.flat(), targets, `${what}: each once, in order`);
        let planned = 0;
        batches.forEach((b, k) => {
          const size = resolveSize(sizes[Math.min(k, sizes.length - 1)]!, n);
          assert.ok(b.length > 0, `${what}: batch ${k} is empty`);
          assert.equal(b.length, Math.min(size, n - planned), `${what}: size of batch ${k}`);
          planned += b.length;
        });
      }
  });
});

describe('resolveConcurrency', () => {
  const cases: [Size, number, number][] = [
    [1, 10, 1],
    [5, 10, 5],
    [50, 7, 50],
    ['10%', 5, 1],
    ['10%', 25, 2],
    ['25%', 100, 25],
    ['29%', 100, 29],
    ['50%', 1, 1],
    ['100%', 40, 40],
    ['10%', 0, 1],
  ];
  for (const [size, n, want] of cases)
    test(`${JSON.stringify(size)} of ${n} → ${want} in flight`, () => {
      assert.equal(resolveConcurrency(size, n), want);
    });

  test('always at least 1', () => {
    for (let n = 0; n <= 300; n++)
      for (const size of ['0.1%', '1%', '10%', '50%', '100%'] as Size[])
        assert.ok(resolveConcurrency(size, n) >= 1, `${size} of ${n}`);
  });
});

describe('rampUpLimit', () => {
  test('1, then 2, 4, 8 … up to the ceiling', () => {
    const seq = (ceiling: number) => Array.from({ length: 8 }, (_, step) => rampUpLimit(step, ceiling));
    assert.deepEqual(seq(1), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(seq(2), [1, 2, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(seq(5), [1, 2, 4, 5, 5, 5, 5, 5]);
    assert.deepEqual(seq(8), [1, 2, 4, 8, 8, 8, 8, 8]);
    assert.deepEqual(seq(100), [1, 2, 4, 8, 16, 32, 64, 100]);
  });

  test('huge steps neither overflow nor pass the ceiling', () => {
    assert.equal(rampUpLimit(30, 10_000), 10_000);
    assert.equal(rampUpLimit(64, 10_000), 10_000);
    assert.equal(rampUpLimit(1_000, 3), 3);
  });

  test('non-decreasing, never above the ceiling, doubling until it', () => {
    for (let ceiling = 1; ceiling <= 300; ceiling++) {
      let prev = 0;
      for (let step = 0; step <= 40; step++) {
        const l = rampUpLimit(step, ceiling);
        assert.ok(Number.isInteger(l) && l >= 1 && l <= ceiling, `step ${step}, ceiling ${ceiling}`);
        assert.ok(l >= prev, `non-decreasing at step ${step}, ceiling ${ceiling}`);
        if (step > 0) assert.equal(l, Math.min(ceiling, prev * 2));
        prev = l;
      }
      assert.equal(prev, ceiling);
    }
  });
});

describe('chunk', () => {
  test('at most 100 instances per invocation', () => {
    assert.equal(MAX_INSTANCES_PER_INVOCATION, 100);
  });

  const cases: [number, number[]][] = [
    [0, []],
    [1, [1]],
    [99, [99]],
    [100, [100]],
    [101, [100, 1]],
    [199, [100, 99]],
    [200, [100, 100]],
    [201, [100, 100, 1]],
    [250, [100, 100, 50]],
    [1000, Array<number>(10).fill(100)],
  ];
  for (const [n, want] of cases)
    test(`${n} ids → ${JSON.stringify(want)}`, () => {
      const all = ids(n);
      const chunks = chunk(all);
      assert.deepEqual(sizesOf(chunks), want);
      assert.deepEqual(chunks.flat(), all);
    });

  test('a smaller size, and the input is left alone', () => {
    const all = ids(7);
    assert.deepEqual(chunk(all, 3), [['ins-0', 'ins-1', 'ins-2'], ['ins-3', 'ins-4', 'ins-5'], ['ins-6']]);
    assert.deepEqual(chunk(all, 1).length, 7);
    assert.deepEqual(all, ids(7));
  });

  test('property: in order, each once, no chunk empty or over 100, all full but the last', () => {
    for (let n = 0; n <= 1000; n++) {
      const all = ids(n);
      const chunks = chunk(all);
      assert.deepEqual(chunks.flat(), all, `${n}`);
      assert.equal(chunks.length, Math.ceil(n / 100), `${n}`);
      chunks.forEach((c, i) => {
        assert.ok(c.length >= 1 && c.length <= 100, `${n}: chunk ${i}`);
        if (i < chunks.length - 1) assert.equal(c.length, 100, `${n}: chunk ${i}`);
      });
    }
  });

  test('the chunks of every planned batch fit the API, for fleets up to 1000', () => {
    for (const n of [1, 99, 100, 101, 250, 999, 1000])
      for (const batch of planBatches(ids(n), [1, '10%', '50%']))
        for (const c of chunk(batch)) assert.ok(c.length <= MAX_INSTANCES_PER_INVOCATION);
  });
});

describe('chunkByKind', () => {
  test('one kind per invocation (TAT refuses CVM and Lighthouse together), at most 100 each', () => {
    const mixed = [
      ...Array.from({ length: 150 }, (_, i) => `ins-${String(i).padStart(8, '0')}`),
      ...Array.from({ length: 3 }, (_, i) => `lhins-${String(i).padStart(8, '0')}`),
      'rins-00000001',
    ].sort(() => 0.5 - Math.random());
    const chunks = chunkByKind(mixed);
    for (const c of chunks) {
      assert.ok(c.length <= MAX_INSTANCES_PER_INVOCATION);
      assert.equal(new Set(c.map((id) => id.split('-')[0])).size, 1, `one kind: ${c.join(',')}`);
    }
    assert.deepEqual(chunks.flat().sort(), [...mixed].sort());
    assert.deepEqual(
      chunks.map((c) => c.length).sort((a, b) => a - b),
      [1, 3, 50, 100],
    );
  });

  test('a chunk of one kind is the plain chunking', () => {
    const one = ids(250);
    assert.deepEqual(chunkByKind(one), chunk(one));
  });
});

describe('planRun: the OS of the targets', () => {
  const o = {
    region: 'r',
    targets: { instanceIds: ['ins-1'] },
    shape: { kind: 'batches' as const, batches: [10] },
  };
  const fleet = { ids: ['ins-1', 'ins-2', 'ins-3'], offline: [], unknown: [], windows: ['ins-2'] };

  test('targets whose OS cannot run the scripts are skipped, saying why', () => {
    const linux = planRun(o, fleet, 'Linux');
    assert.deepEqual(linux.unsupported, ['ins-2']);
    assert.deepEqual(linux.batches[0]!.targets, ['ins-1', 'ins-3']);
    assert.equal(linux.targets['ins-2']!.reason, 'unsupported OS: Windows cannot run SHELL scripts');
    const windows = planRun(o, fleet, 'Windows');
    assert.deepEqual(windows.batches[0]!.targets, ['ins-2']);
    assert.equal(
      windows.targets['ins-1']!.reason,
      'unsupported OS: Linux cannot run POWERSHELL or BAT scripts',
    );
  });

  test('a run none of whose targets can run its scripts refuses to start', () => {
    assert.throws(
      () => planRun(o, { ...fleet, windows: fleet.ids }, 'Linux'),
      /no target can run this runbook: its scripts are SHELL, and every online target runs Windows/,
    );
  });

  test('without OS information (results recorded before it was asked) every target fits', () => {
    assert.deepEqual(planRun(o, { ids: fleet.ids, offline: [], unknown: [] }).unsupported, []);
  });
});
