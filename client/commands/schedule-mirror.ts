// `tatflow schedule mirror-invokers`: TAT invokers become runbook schedules (client/schedules/mirror.ts
// says how, and what was decided). It takes the rollout options of `tatflow run` (but not targets:
// each invoker's instances are the targets), rollingCommand's health check and rollback flags, and
// the schedule policies; `--dry-run` prints the plan, `--disable-originals` disables each invoker
// once its schedule exists.

import { Command } from 'commander';
import { createTatClient } from '../../tat/node/client.js';
import { RunbookRegistry, type RunbookRegistry as Registry } from '../../workflows/registry.js';
import { parseDuration } from '../durations.js';
import { rolloutOptions, runOptions, type RunFlags } from '../run-options.js';
import { checkParams, paramsGiven } from '../runbook-params.js';
import { DEFAULT_CATCHUP_SECONDS, OVERLAPS, type Overlap } from '../schedules/definition.js';
import { whenText } from '../schedules/render.js';
import { applyMirror, planMirror, readInvokers, type MirrorItem } from '../schedules/mirror.js';
import { credentialsOption, engineOptions, engineSettings, type EngineFlags } from '../settings.js';
import { renderTable } from '../table.js';
import { connectClient } from '../temporal-client.js';

interface MirrorFlags extends RunFlags, EngineFlags {
  overlap?: string;
  catchupWindow?: string;
  jitter?: string;
  dryRun?: boolean;
  disableOriginals?: boolean;
  json?: boolean;
}

/** Flags `run` has that mirroring decides by itself, from each invoker. */
const FROM_INVOKER = [
  'targets',
  'online',
  'managedName',
  'command',
  'commandFile',
  'param',
  'params',
] as const;

function render(plan: MirrorItem[], dryRun: boolean): string {
  const table = renderTable(
    ['invoker', 'name', 'schedule', dryRun ? 'would' : 'done', 'when', 'instances', 'note'],
    plan.map((i) => [
      i.invokerId,
      i.invokerName,
      i.action === 'skip' ? '' : i.schedule,
      `${i.action}${i.paused ? ' (paused)' : ''}${i.disabled ? '; invoker disabled' : ''}`,
      i.parts ? `${whenText(i.parts.def.timing.when)} ${i.parts.def.timing.timezone}` : '',
      i.parts && 'instanceIds' in i.parts.input.rollout.targets
        ? i.parts.input.rollout.targets.instanceIds.length
        : '',
      i.reason ?? '',
    ]),
  );
  const n = (a: string) => plan.filter((i) => i.action === a).length;
  const disabled = plan.filter((i) => i.disabled).length;
  const summary = `${n('create')} to create, ${n('update')} to update, ${n('unchanged')} unchanged, ${n('skip')} skipped${disabled ? `; ${disabled} invoker(s) ${dryRun ? 'to disable' : 'disabled'}` : ''}`;
  return `${table}\n${dryRun ? `dry run, nothing changed: ${summary}` : summary.replace('to create', 'created').replace('to update', 'updated')}`;
}

export function mirrorCommand(registry: Registry): Command {
  const rollingOnly = new RunbookRegistry([registry.require('rollingCommand')]);
  const cmd = credentialsOption(
    engineOptions(
      new Command('mirror-invokers').description(
        'Make a rollingCommand schedule of each TAT invoker of the endpoint (tatd, or Tencent Cloud without --tat-endpoint): same command, instances and crontab (Asia/Shanghai), plus the rollout options given here',
      ),
    ),
  );
  return runOptions(cmd, rollingOnly, { runbookArgument: false })
    .option(
      '--overlap <policy>',
      `when a run is still going at the next fire: ${OVERLAPS.join(', ')} (default skip)`,
    )
    .option(
      '--catchup-window <duration>',
      'a fire missed (Temporal down) is still run this late (default 15m)',
    )
    .option('--jitter <duration>', 'start each run up to this much after its time, at random')
    .option('--dry-run', 'print what would be created, updated or disabled, and change nothing')
    .option('--disable-originals', 'disable each invoker once its schedule exists')
    .option('--json', 'print the plan as JSON (docs/schedules.md)')
    .action(async (flags: MirrorFlags) => {
      for (const k of FROM_INVOKER)
        if (flags[k] !== undefined)
          throw new Error(
            `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: mirror-invokers takes each invoker's own (command, parameters, instances)`,
          );
      const overlap = flags.overlap ?? 'skip';
      if (!(OVERLAPS as readonly string[]).includes(overlap))
        throw new Error(`--overlap: expected one of ${OVERLAPS.join(', ')}, got "${overlap}"`);
      const catchup = flags.catchupWindow
        ? parseDuration('catchup-window', flags.catchupWindow)
        : DEFAULT_CATCHUP_SECONDS;
      if (catchup < 10) throw new Error("--catchup-window: shorter than Temporal's minimum of 10s");
      const entry = rollingOnly.require('rollingCommand');
      const params = paramsGiven(entry, flags, rollingOnly);
      const s = engineSettings(flags);
      const {
        targets: _t,
        region: _r,
        ...rollout
      } = rolloutOptions({ ...flags, targets: 'ins-0' }, s.region);
      void _t;
      void _r;
      const tat = createTatClient({ ...s.tat, region: s.region });
      const found = await readInvokers(tat);
      const client = await connectClient(s);
      const nowMs = Date.now();
      const plan = await planMirror(client, found, {
        region: s.region,
        ...(s.tat.endpoint ? { endpoint: s.tat.endpoint } : {}),
        taskQueue: s.taskQueue,
        rollout,
        params,
        overlap: overlap as Overlap,
        catchupWindowSeconds: catchup,
        ...(flags.jitter ? { jitterSeconds: parseDuration('jitter', flags.jitter) } : {}),
        nowMs,
        check: (p) => checkParams(entry, p),
      });
      await applyMirror(client, tat, plan, found, {
        nowMs,
        disableOriginals: !!flags.disableOriginals,
        dryRun: !!flags.dryRun,
      });
      if (flags.json) {
        const out = plan.map(({ parts, ...rest }) => ({
          ...rest,
          ...(parts
            ? {
                when: parts.def.timing.when,
                timezone: parts.def.timing.timezone,
                instances:
                  'instanceIds' in parts.input.rollout.targets ? parts.input.rollout.targets.instanceIds : [],
              }
            : {}),
        }));
        process.stdout.write(`${JSON.stringify({ dryRun: !!flags.dryRun, items: out }, null, 2)}\n`);
      } else
        process.stdout.write(
          `${found.invokers.length ? render(plan, !!flags.dryRun) : `no invokers in ${s.region}`}\n`,
        );
    });
}
