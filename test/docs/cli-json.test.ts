// docs/cli.md shows an example of each `--json` output: each must be what the schema the CLI's
// answers are checked against (client/json-output.ts) accepts, so the docs cannot drift from it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { z } from 'zod';
import {
  InstancesJson,
  LogsJson,
  PreviewJson,
  RunbooksJson,
  RunsJson,
  StatusJson,
} from '../../client/json-output.js';

const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

const SHAPES: [string, z.ZodType][] = [
  ['tatflow instances --json', InstancesJson],
  ['tatflow runbooks --json', RunbooksJson],
  ['tatflow preview --json', PreviewJson],
  ['tatflow status --json`, `tatflow run --json', StatusJson],
  ['tatflow runs --json', RunsJson],
  ['tatflow logs --json', LogsJson],
];

test('every --json example in docs/cli.md matches its schema', () => {
  for (const [heading, schema] of SHAPES) {
    const at = doc.indexOf(`### \`${heading}\``);
    assert.ok(at >= 0, `docs/cli.md has a section "${heading}"`);
    const block = /```json\n([\s\S]*?)```/.exec(doc.slice(at))?.[1];
    assert.ok(block, `the section "${heading}" has an example`);
    const r = schema.safeParse(JSON.parse(block));
    assert.ok(r.success, `${heading}: ${r.error?.message}`);
  }
});
