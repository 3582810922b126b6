// Drives client/progress.ts's ProgressView through a scripted run, as `tatflow run --follow` does
// with the snapshots it queries: `node progress-script.js <snapshots.json> <sync dir>`. After
// showing snapshot i it creates `<sync dir>/shown-<i>` and waits for `<sync dir>/next-<i>`, so the
// test can read the screen at each step; at the end it prints `done` and waits for `<dir>/quit`.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProgressView } from '../../client/progress.js';
import type { RolloutState } from '../../workflows/engine/types.js';

const [file, dir] = process.argv.slice(2) as [string, string];
const snapshots = JSON.parse(readFileSync(file, 'utf8')) as RolloutState[];

const until = async (path: string) => {
  while (!existsSync(path)) await new Promise((r) => setTimeout(r, 20));
};

const view = new ProgressView();
for (const [i, s] of snapshots.entries()) {
  view.update(s);
  // The same snapshot again, as a poll that saw no change: nothing may be printed twice.
  view.update(s);
  writeFileSync(join(dir, `shown-${i}`), '');
  await until(join(dir, `next-${i}`));
}
view.end();
process.stdout.write('done\n');
await until(join(dir, 'quit'));
