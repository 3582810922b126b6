// docs/runbooks.md lists the built-in runbooks with their parameters and flags as the registry
// describes them (client/runbook-help.ts renders both the docs and `tatflow run --help`). With
// UPDATE_DOCS=1 the test rewrites the section instead of failing.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { runbookReference } from '../../client/runbook-help.js';
import { builtInRunbooks } from '../../workflows/registry.js';

const DOC = new URL('../../../docs/runbooks.md', import.meta.url);
const START = '<!-- runbook-reference:start -->';
const END = '<!-- runbook-reference:end -->';

/** Prettier pads tables; compare the words. */
const words = (md: string) =>
  md
    .split('\n')
    .map((l) => l.replace(/-{3,}/g, '---').replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');

test('docs/runbooks.md lists the built-in runbooks as the registry describes them', () => {
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  assert.ok(a >= 0 && b > a, `docs/runbooks.md has ${START} … ${END}`);
  const shown = doc.slice(a + START.length, b);
  const wanted = runbookReference(builtInRunbooks);
  if (process.env.UPDATE_DOCS) {
    writeFileSync(DOC, `${doc.slice(0, a + START.length)}\n\n${wanted}\n${doc.slice(b)}`);
    return;
  }
  assert.equal(words(shown), words(wanted), 'run with UPDATE_DOCS=1 to update docs/runbooks.md');
  for (const r of builtInRunbooks.list()) assert.ok(shown.includes(`\`${r.name}\``), r.name);
});
