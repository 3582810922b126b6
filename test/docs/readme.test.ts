// The README shows the example runbook in full: it must be the file the tests run.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../../', import.meta.url);

test("the README's runbook is examples/runbooks/rotate-logs.ts", () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const example = readFileSync(new URL('examples/runbooks/rotate-logs.ts', root), 'utf8');
  const shown = /```ts\n(import \{ defineRunbook, z \}[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(shown, 'the README has the runbook');
  assert.equal(shown, example.slice(example.indexOf('import { defineRunbook, z }')));
});
