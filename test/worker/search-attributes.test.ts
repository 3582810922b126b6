// The runs' search attributes in a namespace: added when missing, left when there, an error when
// one is there with another type; and a namespace that cannot take them is a warning that says how
// to register them by hand (the worker and `tatflow run` go on, and runs set none).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureRunSearchAttributes, registerRunSearchAttributes } from '../../worker/search-attributes.js';
import { RUN_ATTRIBUTE_DEFINITIONS } from '../../workflows/engine/visibility.js';

function operator(have: Record<string, number>, add?: (a: Record<string, number>) => Promise<unknown>) {
  const added: Record<string, number>[] = [];
  return {
    added,
    listSearchAttributes: () => Promise.resolve({ customAttributes: have }),
    addSearchAttributes: (r: { namespace: string; searchAttributes: Record<string, number> }) => {
      added.push(r.searchAttributes);
      return add ? add(r.searchAttributes) : Promise.resolve({});
    },
  };
}

test('the missing ones are added, the ones there are left alone', async () => {
  const [first, ...rest] = RUN_ATTRIBUTE_DEFINITIONS;
  const some = operator({ [first!.name]: first!.type === 'Keyword' ? 2 : 3 });
  assert.deepEqual((await ensureRunSearchAttributes(some, 'default')).sort(), rest.map((d) => d.name).sort());
  assert.equal(some.added.length, 1);
  const all = operator(
    Object.fromEntries(RUN_ATTRIBUTE_DEFINITIONS.map((d) => [d.name, d.type === 'Keyword' ? 2 : 3])),
  );
  assert.deepEqual(await ensureRunSearchAttributes(all, 'default'), []);
  assert.equal(all.added.length, 0, 'nothing to add: no call');
});

test('one registered with another type is an error naming it', async () => {
  const keyword = RUN_ATTRIBUTE_DEFINITIONS.find((d) => d.type === 'Keyword')!;
  await assert.rejects(
    ensureRunSearchAttributes(operator({ [keyword.name]: 1 }), 'ops'),
    new RegExp(
      `${keyword.name} is registered in namespace ops with another type \\(Text\\); tatflow needs Keyword`,
    ),
  );
});

test('a namespace that refuses them: not an error, a warning that says how to register them', async () => {
  const r = await registerRunSearchAttributes(
    operator({}, () => Promise.reject(new Error('7 PERMISSION_DENIED: Request unauthorized.'))),
    'ops',
  );
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.match(r.why, /could not be registered in namespace ops: 7 PERMISSION_DENIED/);
  assert.match(
    r.why,
    /temporal operator search-attribute create --namespace ops --name TatflowRunbook --type Keyword/,
  );
  assert.deepEqual(await registerRunSearchAttributes(operator({}), 'ops'), { ok: true });
});
