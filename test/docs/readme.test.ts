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

test("the README's tatd config example is valid and shows the limits' defaults", async () => {
  const { parseServerConfig } = await import('../../server/config.js');
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const shown = /A config file is JSON[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(shown, 'the README has the config example');
  const example = JSON.parse(shown) as Record<string, Record<string, unknown>>;
  const parsed = parseServerConfig(example);
  const defaults = parseServerConfig({ data: '/d', accounts: [{ secretId: 'a', secretKey: 'b' }] });
  for (const section of ['connections', 'rateLimit', 'agents'] as const)
    assert.deepEqual(example[section], defaults[section], `${section} shows the defaults`);
  for (const key of [
    'maxObjectBytes',
    'quotaBytesPerAccount',
    'removeWithRecords',
    'outputUrlTtlMs',
  ] as const)
    assert.equal(parsed.cos[key], defaults.cos[key], `cos.${key} shows the default`);
});
