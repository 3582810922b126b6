// The error budget (workflows/engine/budget.ts; runbooks.md, "Outcomes and the error budget"):
// maxErrors resolved against the fleet, when a run breaches, and how many targets may start now,
// by default and with the strict budget. The simulations drive `admissible` the way the engine does
// (a window, a ramp-up, lock-step batches dispatched in chunks) and check the guarantees.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admissible, isBreached, resolveMaxErrors } from '../../workflows/engine/budget.js';
import { chunk, parseSize, planBatches, rampUpLimit, type Size } from '../../workflows/engine/plan.js';
import { exactFloor, prng } from '../helpers/numbers.js';

describe('resolveMaxErrors', () => {
  test('a count is used as is, 0 included', () => {
    assert.equal(resolveMaxErrors(0, 10), 0);
    assert.equal(resolveMaxErrors(1, 10), 1);
    assert.equal(resolveMaxErrors(5, 10), 5);
    assert.equal(resolveMaxErrors(50, 7), 50);
  });

  // [maxErrors, targets, resolved]: floor(pct × N), with no minimum of 1
  const cases: [Size, number, number][] = [
    ['10%', 5, 0],
    ['10%', 9, 0],
    ['10%', 10, 1],
    ['10%', 25, 2],
    ['29%', 100, 29],
    ['57%', 100, 57],
    ['33.3%', 3, 0],
    ['33.3%', 1000, 333],
    ['50%', 1, 0],
    ['50%', 2, 1],
    ['50%', 3, 1],
    ['1%', 99, 0],
    ['1%', 100, 1],
    ['0.5%', 1000, 5],
    ['100%', 1, 1],
    ['100%', 37, 37],
    ['10%', 0, 0],
  ];
  for (const [maxErrors, n, want] of cases)
    test(`${maxErrors} of ${n} → ${want}`, () => {
      assert.equal(resolveMaxErrors(maxErrors, n), want);
    });

  test('"0%" resolves to 0', () => {
    assert.equal(resolveMaxErrors('0%', 100), 0);
  });

  test('every whole and one-decimal percentage of fleets up to 200 is floor(pct × N), exactly', () => {
    for (let tenths = 1; tenths <= 1000; tenths++)
      for (let n = 0; n <= 200; n++) {
        const pct = `${(tenths / 10).toFixed(1)}%`;
        assert.equal(resolveMaxErrors(parseSize(pct), n), exactFloor(pct, n), `${pct} of ${n}`);
      }
  });
});

describe('isBreached', () => {
  // [errors, maxErrors, breached]: errors EXCEED maxErrors
  const cases: [number, number, boolean][] = [
    [0, 0, false],
    [1, 0, true],
    [2, 0, true],
    [0, 2, false],
    [2, 2, false],
    [3, 2, true],
    [10, 10, false],
    [11, 10, true],
  ];
  for (const [errors, maxErrors, want] of cases)
    test(`${errors} error(s) with maxErrors ${maxErrors}: ${want ? 'breached' : 'not breached'}`, () => {
      assert.equal(isBreached(errors, maxErrors), want);
    });

  test('maxErrors 0: the first error breaches', () => {
    assert.equal(isBreached(0, 0), false);
    assert.equal(isBreached(1, 0), true);
  });
});

describe('admissible', () => {
  type Case = { want: number; inFlight: number; errors: number; maxErrors: number; expect: number };

  test('default: the batch or window size decides, whatever is in flight', () => {
    const cases: Case[] = [
      { want: 10, inFlight: 0, errors: 0, maxErrors: 0, expect: 10 },
      { want: 10, inFlight: 5, errors: 0, maxErrors: 0, expect: 10 },
      { want: 50, inFlight: 50, errors: 2, maxErrors: 2, expect: 50 },
      { want: 1, inFlight: 0, errors: 0, maxErrors: 3, expect: 1 },
      { want: 0, inFlight: 0, errors: 0, maxErrors: 3, expect: 0 },
      { want: -2, inFlight: 0, errors: 0, maxErrors: 3, expect: 0 },
    ];
    for (const c of cases) assert.equal(admissible({ ...c, strict: false }), c.expect, JSON.stringify(c));
  });

  test('nothing once breached, in both modes', () => {
    for (const strict of [false, true])
      for (const [errors, maxErrors] of [
        [1, 0],
        [3, 2],
        [11, 10],
      ] as const) {
        const o = { want: 10, inFlight: 0, errors, maxErrors, strict };
        assert.equal(admissible(o), 0, JSON.stringify(o));
        assert.equal(admissible({ ...o, inFlight: 4 }), 0, JSON.stringify(o));
      }
  });

  test('breach at maxErrors 0: one error and nothing more starts', () => {
    assert.equal(admissible({ want: 5, inFlight: 0, errors: 0, maxErrors: 0, strict: false }), 5);
    assert.equal(admissible({ want: 5, inFlight: 0, errors: 1, maxErrors: 0, strict: false }), 0);
    assert.equal(admissible({ want: 5, inFlight: 0, errors: 0, maxErrors: 0, strict: true }), 1);
    assert.equal(admissible({ want: 5, inFlight: 0, errors: 1, maxErrors: 0, strict: true }), 0);
  });

  test('strict: in flight capped at remaining budget + 1', () => {
    const cases: Case[] = [
      // maxErrors 0: one at a time
      { want: 10, inFlight: 0, errors: 0, maxErrors: 0, expect: 1 },
      { want: 10, inFlight: 1, errors: 0, maxErrors: 0, expect: 0 },
      // maxErrors 2: up to 3, less as errors come in
      { want: 10, inFlight: 0, errors: 0, maxErrors: 2, expect: 3 },
      { want: 10, inFlight: 1, errors: 0, maxErrors: 2, expect: 2 },
      { want: 10, inFlight: 3, errors: 0, maxErrors: 2, expect: 0 },
      { want: 10, inFlight: 0, errors: 1, maxErrors: 2, expect: 2 },
      { want: 10, inFlight: 1, errors: 1, maxErrors: 2, expect: 1 },
      { want: 10, inFlight: 0, errors: 2, maxErrors: 2, expect: 1 },
      { want: 10, inFlight: 1, errors: 2, maxErrors: 2, expect: 0 },
      // never more than wanted
      { want: 2, inFlight: 0, errors: 0, maxErrors: 10, expect: 2 },
      { want: 0, inFlight: 0, errors: 0, maxErrors: 10, expect: 0 },
      { want: -1, inFlight: 0, errors: 0, maxErrors: 10, expect: 0 },
      // more in flight than the cap (started before errors came in): 0, never negative
      { want: 10, inFlight: 5, errors: 2, maxErrors: 2, expect: 0 },
    ];
    for (const c of cases) assert.equal(admissible({ ...c, strict: true }), c.expect, JSON.stringify(c));
  });

  test('strict: exhaustively, errors + in flight + admitted never pass maxErrors + 1', () => {
    for (let maxErrors = 0; maxErrors <= 8; maxErrors++)
      for (let errors = 0; errors <= maxErrors + 2; errors++)
        for (let inFlight = 0; inFlight <= 12; inFlight++)
          for (let want = 0; want <= 12; want++) {
            const o = { want, inFlight, errors, maxErrors, strict: true };
            const n = admissible(o);
            assert.ok(n >= 0 && n <= want, JSON.stringify(o));
            if (n > 0) assert.ok(errors + inFlight + n <= maxErrors + 1, JSON.stringify(o));
            // and it is not needlessly slow: it admits all it can
            if (errors <= maxErrors)
              assert.equal(
                n,
                Math.max(0, Math.min(want, maxErrors + 1 - errors - inFlight)),
                JSON.stringify(o),
              );
          }
  });
});

// ---- simulations ----

type Order = 'oldest first' | 'newest first' | 'all at once';

interface Sim {
  started: number;
  errors: number;
  maxInFlight: number;
  /** max over time of errors + in flight */
  maxExposure: number;
  /** nothing in flight, targets left, and none admitted while the budget still had room */
  stalled: boolean;
}

/**
 * A window or ramp-up: wants up to `limit() - inFlight` new targets, starts what `admissible`
 * allows, then lets targets finish in the given order; `fails(i)` says whether target i fails.
 */
function simulateWindow(o: {
  n: number;
  limit: (succeeded: number) => number;
  maxErrors: number;
  strict: boolean;
  order: Order;
  fails: (i: number) => boolean;
}): Sim {
  let next = 0;
  let errors = 0;
  let succeeded = 0;
  let inFlight: number[] = [];
  const r: Sim = { started: 0, errors: 0, maxInFlight: 0, maxExposure: 0, stalled: false };
  for (;;) {
    const want = Math.min(o.n - next, o.limit(succeeded) - inFlight.length);
    const k = admissible({
      want,
      inFlight: inFlight.length,
      errors,
      maxErrors: o.maxErrors,
      strict: o.strict,
    });
    for (let j = 0; j < k; j++) inFlight.push(next++);
    r.started += k;
    r.maxInFlight = Math.max(r.maxInFlight, inFlight.length);
    r.maxExposure = Math.max(r.maxExposure, errors + inFlight.length);
    if (inFlight.length === 0) {
      r.stalled = next < o.n && !isBreached(errors, o.maxErrors);
      break;
    }
    let done: number[];
    if (o.order === 'all at once') [done, inFlight] = [inFlight, []];
    else done = o.order === 'oldest first' ? inFlight.splice(0, 1) : inFlight.splice(-1, 1);
    for (const i of done)
      if (o.fails(i)) errors++;
      else succeeded++;
  }
  r.errors = errors;
  return r;
}

/**
 * Lock-step batches the way the engine runs a step: per batch, admit from its queue, dispatch in
 * chunks, wait for a result; on a breach the rest of the batch is dropped and no batch follows.
 */
function simulateBatches(o: {
  n: number;
  sizes: Size[];
  maxErrors: number;
  strict: boolean;
  order: Order;
  fails: (i: number) => boolean;
}): Sim {
  const targets = Array.from({ length: o.n }, (_, i) => i);
  let errors = 0;
  const r: Sim = { started: 0, errors: 0, maxInFlight: 0, maxExposure: 0, stalled: false };
  for (const batch of planBatches(targets, o.sizes)) {
    if (isBreached(errors, o.maxErrors)) break;
    const queue = [...batch];
    let inFlight: number[] = [];
    for (;;) {
      if (isBreached(errors, o.maxErrors)) queue.length = 0;
      const k = admissible({
        want: queue.length,
        inFlight: inFlight.length,
        errors,
        maxErrors: o.maxErrors,
        strict: o.strict,
      });
      for (const ids of chunk(queue.splice(0, Math.max(0, k)))) {
        assert.ok(ids.length <= 100);
        inFlight.push(...ids);
        r.started += ids.length;
      }
      r.maxInFlight = Math.max(r.maxInFlight, inFlight.length);
      r.maxExposure = Math.max(r.maxExposure, errors + inFlight.length);
      if (inFlight.length === 0) {
        if (queue.length > 0) r.stalled = true;
        break;
      }
      let done: number[];
      if (o.order === 'all at once') [done, inFlight] = [inFlight, []];
      else done = o.order === 'oldest first' ? inFlight.splice(0, 1) : inFlight.splice(-1, 1);
      for (const i of done) if (o.fails(i)) errors++;
    }
    if (r.stalled) break;
  }
  r.errors = errors;
  return r;
}

const ORDERS: Order[] = ['oldest first', 'newest first', 'all at once'];
const allFail = () => true;

describe('strict budget: a run where every target fails', () => {
  test('window: total started never exceeds maxErrors + 1, for many budgets and window sizes', () => {
    for (let maxErrors = 0; maxErrors <= 15; maxErrors++)
      for (const window of [1, 2, 3, 5, 8, 10, 16, 25, 50, 100])
        for (const n of [1, 2, 5, 10, 17, 40, 120])
          for (const order of ORDERS) {
            const what = `maxErrors ${maxErrors}, window ${window}, ${n} targets, ${order}`;
            const s = simulateWindow({
              n,
              limit: () => window,
              maxErrors,
              strict: true,
              order,
              fails: allFail,
            });
            assert.ok(s.started <= maxErrors + 1, `${what}: started ${s.started}`);
            assert.equal(s.started, Math.min(n, maxErrors + 1), `${what}: uses the whole budget`);
            assert.equal(s.errors, s.started, what);
            assert.equal(isBreached(s.errors, maxErrors), n > maxErrors, what);
            assert.ok(
              s.maxInFlight <= Math.min(window, maxErrors + 1),
              `${what}: in flight ${s.maxInFlight}`,
            );
            assert.equal(s.stalled, false, what);
          }
  });

  test('maxErrors 0: one target at a time, and the first failure ends it', () => {
    const s = simulateWindow({
      n: 50,
      limit: () => 50,
      maxErrors: 0,
      strict: true,
      order: 'all at once',
      fails: allFail,
    });
    assert.deepEqual([s.started, s.errors, s.maxInFlight], [1, 1, 1]);
  });

  test('ramp-up: total started never exceeds maxErrors + 1', () => {
    for (let maxErrors = 0; maxErrors <= 15; maxErrors++)
      for (const ceiling of [1, 2, 4, 7, 16, 64])
        for (const n of [1, 3, 10, 33, 100])
          for (const order of ORDERS) {
            const what = `maxErrors ${maxErrors}, ceiling ${ceiling}, ${n} targets, ${order}`;
            const s = simulateWindow({
              n,
              limit: (ok) => rampUpLimit(Math.floor(Math.log2(ok + 1)), ceiling),
              maxErrors,
              strict: true,
              order,
              fails: allFail,
            });
            assert.ok(s.started <= maxErrors + 1, `${what}: started ${s.started}`);
            assert.equal(s.errors, s.started, what);
          }
  });

  test('batches (chunked dispatch): total started never exceeds maxErrors + 1', () => {
    const shapes: Size[][] = [[1, '10%', '50%'], [1], [5], ['25%'], ['100%'], [150], [1, 100, 250]];
    for (let maxErrors = 0; maxErrors <= 12; maxErrors++)
      for (const sizes of shapes)
        for (const n of [1, 2, 10, 99, 101, 300])
          for (const order of ORDERS) {
            const what = `maxErrors ${maxErrors}, ${JSON.stringify(sizes)}, ${n} targets, ${order}`;
            const s = simulateBatches({ n, sizes, maxErrors, strict: true, order, fails: allFail });
            assert.ok(s.started <= maxErrors + 1, `${what}: started ${s.started}`);
            assert.equal(s.started, Math.min(n, maxErrors + 1), `${what}: uses the whole budget`);
            assert.equal(s.errors, s.started, what);
            assert.equal(s.stalled, false, what);
          }
  });

  test('a percentage budget: never more than floor(pct × N) + 1 failed targets', () => {
    for (const pct of ['1%', '5%', '10%', '33.3%', '50%'] as Size[])
      for (const n of [1, 7, 10, 64, 250]) {
        const maxErrors = resolveMaxErrors(pct, n);
        const s = simulateWindow({
          n,
          limit: () => 20,
          maxErrors,
          strict: true,
          order: 'all at once',
          fails: allFail,
        });
        assert.equal(s.errors, Math.min(n, maxErrors + 1), `${pct} of ${n}`);
      }
  });
});

describe('strict budget: mixed outcomes', () => {
  test('errors + in flight never pass maxErrors + 1, and within budget every target runs', () => {
    const rand = prng(7);
    for (let round = 0; round < 400; round++) {
      const n = 1 + Math.floor(rand() * 150);
      const maxErrors = Math.floor(rand() * 10);
      const failRate = [0, 0.05, 0.2, 0.5, 1][round % 5]!;
      const seed = Math.floor(rand() * 1e9);
      const failing = (() => {
        const r = prng(seed);
        const f = Array.from({ length: n }, () => r() < failRate);
        return (i: number) => f[i]!;
      })();
      const order = ORDERS[round % 3]!;
      const window = 1 + Math.floor(rand() * 30);
      const what = `round ${round}: ${n} targets, maxErrors ${maxErrors}, fail rate ${failRate}, ${order}`;
      const sims: [string, Sim][] = [
        [
          `window ${window}`,
          simulateWindow({ n, limit: () => window, maxErrors, strict: true, order, fails: failing }),
        ],
        [
          `ramp-up to ${window}`,
          simulateWindow({
            n,
            limit: (ok) => rampUpLimit(Math.floor(Math.log2(ok + 1)), window),
            maxErrors,
            strict: true,
            order,
            fails: failing,
          }),
        ],
        [
          'batches [1, 10%, 50%]',
          simulateBatches({ n, sizes: [1, '10%', '50%'], maxErrors, strict: true, order, fails: failing }),
        ],
      ];
      for (const [shape, s] of sims) {
        assert.ok(s.maxExposure <= maxErrors + 1, `${what}, ${shape}: exposure ${s.maxExposure}`);
        assert.ok(s.errors <= maxErrors + 1, `${what}, ${shape}: errors ${s.errors}`);
        assert.equal(s.stalled, false, `${what}, ${shape}: stalled`);
        if (!isBreached(s.errors, maxErrors)) assert.equal(s.started, n, `${what}, ${shape}: all ran`);
      }
    }
  });

  test('no failures: strict runs everything, at up to maxErrors + 1 at a time', () => {
    for (let maxErrors = 0; maxErrors <= 6; maxErrors++) {
      const s = simulateWindow({
        n: 40,
        limit: () => 10,
        maxErrors,
        strict: true,
        order: 'oldest first',
        fails: () => false,
      });
      assert.equal(s.started, 40);
      assert.equal(s.errors, 0);
      assert.equal(s.maxInFlight, Math.min(10, maxErrors + 1));
    }
  });
});

describe('default budget (not strict): a batch or window runs at its size', () => {
  test('window, every target fails: overshoots by up to the window, then stops', () => {
    for (let maxErrors = 0; maxErrors <= 10; maxErrors++)
      for (const window of [1, 2, 5, 10, 25])
        for (const n of [1, 5, 30, 100]) {
          const what = `maxErrors ${maxErrors}, window ${window}, ${n} targets`;
          const oneByOne = simulateWindow({
            n,
            limit: () => window,
            maxErrors,
            strict: false,
            order: 'oldest first',
            fails: allFail,
          });
          assert.equal(oneByOne.started, Math.min(n, maxErrors + window), what);
          assert.equal(oneByOne.maxInFlight, Math.min(n, window), what);
          assert.equal(oneByOne.errors, oneByOne.started, what);
          const together = simulateWindow({
            n,
            limit: () => window,
            maxErrors,
            strict: false,
            order: 'all at once',
            fails: allFail,
          });
          assert.equal(together.started, Math.min(n, window * (Math.floor(maxErrors / window) + 1)), what);
          assert.ok(together.started <= maxErrors + window, what);
        }
  });

  test('maxErrors 0 with a window of 10: the whole window runs, the breach stops the rest', () => {
    const s = simulateWindow({
      n: 100,
      limit: () => 10,
      maxErrors: 0,
      strict: false,
      order: 'all at once',
      fails: allFail,
    });
    assert.deepEqual([s.started, s.errors, s.maxInFlight], [10, 10, 10]);
  });

  test('batches, every target fails: the batch in progress runs whole, no batch follows a breach', () => {
    // 100 targets in [1, 10%, 50%] = 1, 10, 50, 39
    const run = (maxErrors: number, order: Order) =>
      simulateBatches({ n: 100, sizes: [1, '10%', '50%'], maxErrors, strict: false, order, fails: allFail });
    for (const order of ORDERS) {
      assert.equal(run(0, order).started, 1, order);
      assert.equal(run(1, order).started, 11, order);
      assert.equal(run(10, order).started, 11, order);
      assert.equal(run(11, order).started, 61, order);
      assert.equal(run(60, order).started, 61, order);
      assert.equal(run(61, order).started, 100, order);
    }
  });

  test('batches over 100 targets go out in chunks of at most 100, all at once by default', () => {
    const s = simulateBatches({
      n: 250,
      sizes: [250],
      maxErrors: 0,
      strict: false,
      order: 'all at once',
      fails: allFail,
    });
    assert.deepEqual([s.started, s.maxInFlight], [250, 250]);
  });
});
