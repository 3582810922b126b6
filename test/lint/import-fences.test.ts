// The import fences (eslint/import-fences.js): each forbidden direction is reported, allowed ones
// are not, workflow code may not import Node built-ins, and the repository's ESLint config applies
// the rule to every folder.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const rule = (await import(new URL('../../../eslint/import-fences.js', import.meta.url).href)) as {
  default: NonNullable<Linter.Config['plugins']>[string];
};

function problems(file: string, code: string): string[] {
  const linter = new Linter();
  const config: Linter.Config[] = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as Linter.Parser },
      plugins: { tatflow: rule.default },
      rules: { 'tatflow/import-fences': ['error', { root: ROOT }] },
    },
  ];
  return linter.verify(code, config, { filename: `${ROOT}${file}` }).map((m) => m.message);
}

describe('import fences', () => {
  const refused: [string, string, RegExp][] = [
    [
      'server/api/endpoint.ts',
      "import { x } from '../../agent/session.js';",
      /server\/ must not import from agent\//,
    ],
    ['agent/session.ts', "import { x } from '../server/app.js';", /agent\/ must not import from server\//],
    ['server/app.ts', "import { x } from '../client/settings.js';", /server\/ must not import from client\//],
    ['agent/main.ts', "export { x } from '../client/settings.js';", /agent\/ must not import from client\//],
    [
      'activities/tasks.ts',
      "import type { X } from '../workflows/engine/types.js';",
      /activities\/ must not import from workflows\//,
    ],
    [
      'bench/fanout.ts',
      "import { x } from '../test/helpers/engine.js';",
      /bench\/ must not import from test\//,
    ],
    ['workflows/engine/rollout.ts', "import { readFileSync } from 'node:fs';", /Node built-in "node:fs"/],
    ['workflows/engine/rollout.ts', "import { createHash } from 'crypto';", /Node built-in "crypto"/],
    ['workflows/registry.ts', "const m = await import('node:path');", /Node built-in "node:path"/],
  ];
  for (const [file, code, message] of refused)
    test(`${file}: ${code}`, () => {
      const found = problems(file, code);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, message);
    });

  const allowed: [string, string][] = [
    ['activities/tasks.ts', "import { outcomeOf } from '../tat/outcome.js';"],
    ['workflows/engine/dispatch.ts', "import type { TaskResult } from '../../activities/types.js';"],
    ['workflows/engine/define.ts', "import { z } from 'zod';"],
    ['client/commands/run.ts', "import { planRun } from '../../workflows/engine/planning.js';"],
    ['bench/fanout.ts', "import { startTatd } from '../testkit/tatd.js';"],
    ['worker/runbook-files.ts', "import { register } from 'node:module';"],
    // Resolved against the file: this is server/agent/…, not the agent.
    ['server/gateway/x.ts', "import { y } from '../agent/y.js';"],
  ];
  for (const [file, code] of allowed)
    test(`allowed: ${file}: ${code}`, () => {
      assert.deepEqual(problems(file, code), []);
    });

  test('the repository config applies the rule to every folder', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const f of [
      'server/app.ts',
      'agent/main.ts',
      'activities/index.ts',
      'workflows/index.ts',
      'bench/fanout.ts',
    ]) {
      const config = (await eslint.calculateConfigForFile(f)) as { rules: Record<string, unknown[]> };
      assert.equal(config.rules['tatflow/import-fences']?.[0], 2, f);
    }
  });
});
