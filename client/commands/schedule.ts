// `tatflow schedule create|list|describe|update|pause|unpause|trigger|backfill|delete|mirror-invokers`:
// runbook schedules on Temporal Schedules (docs/schedules.md). Each is the Schedule
// `tatflow-<name>`, whose action starts the runbook's workflow with the input `tatflow run` would
// give it; the parts are in client/schedules/.

import { ScheduleAlreadyRunning, type Client, type ScheduleOverlapPolicy } from '@temporalio/client';
import { Command } from 'commander';
import { builtInRunbooks, type RunbookRegistry } from '../../workflows/registry.js';
import { runbooksHelp } from '../runbook-help.js';
import { runOptions, type RunFlags } from '../run-options.js';
import { engineOptions, regionSetting, temporalSettings, type EngineFlags } from '../settings.js';
import { OVERLAPS, overlapName, partsOf, temporalOverlap, type Overlap } from '../schedules/definition.js';
import { describeSchedule, listSchedules, scheduleHandle } from '../schedules/describe.js';
import { renderList, renderSchedule, whenText } from '../schedules/render.js';
import { partsFromFlags, scheduleFlags, updatedParts, type ScheduleFlags } from '../schedules/flags.js';
import { scheduleIdOf, scheduleName } from '../schedules/ids.js';
import { createSchedule, updateSchedule } from '../schedules/install.js';
import { mirrorCommand } from './schedule-mirror.js';
import { parseTime } from '../schedules/spec.js';
import { connectClient } from '../temporal-client.js';
import { localTime } from '../../tat/dst.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function withClient<T>(flags: EngineFlags, fn: (c: Client) => Promise<T>): Promise<T> {
  return fn(await connectClient(temporalSettings(flags)));
}

function overlapFlag(v: string | undefined): Overlap | undefined {
  if (v === undefined) return undefined;
  if (!(OVERLAPS as readonly string[]).includes(v))
    throw new Error(`--overlap: expected one of ${OVERLAPS.join(', ')}, got "${v}"`);
  return v as Overlap;
}

function createCommand(registry: RunbookRegistry): Command {
  const cmd = engineOptions(
    new Command('create')
      .description('Create a schedule that starts runs of a runbook, with the options of `tatflow run`')
      .argument('<name>', 'the schedule’s name (its Temporal Schedule is tatflow-<name>)'),
  );
  return scheduleFlags(runOptions(cmd, registry), { update: false })
    .addHelpText('after', runbooksHelp(registry))
    .action(async (given: string, runbook: string, flags: ScheduleFlags & RunFlags & EngineFlags) => {
      const name = scheduleName(given);
      const s = temporalSettings(flags);
      const parts = partsFromFlags(name, runbook, flags, {
        registry,
        region: regionSetting(flags),
        taskQueue: s.taskQueue,
      });
      const client = await connectClient(s);
      try {
        await createSchedule(client, parts, Date.now(), {
          ...(flags.paused ? { paused: true } : {}),
          ...(flags.note ? { note: flags.note } : {}),
        });
      } catch (e) {
        if (e instanceof ScheduleAlreadyRunning)
          throw new Error(
            `a schedule named "${name}" exists: change it with \`tatflow schedule update ${name} …\`, or delete it first`,
          );
        throw e;
      }
      const t = parts.def.timing;
      say(
        `schedule ${name} created (${scheduleIdOf(name)}): ${parts.def.runbook}, ${whenText(t.when)} in ${t.timezone}${flags.paused ? ', paused' : ''}`,
      );
      say(`see it with: tatflow schedule describe ${name}`);
    });
}

function updateCommand(registry: RunbookRegistry): Command {
  const cmd = engineOptions(
    new Command('update')
      .description(
        'Change a schedule: the flags given replace what they set, the rest stays; with none, recomputes the DST fires',
      )
      .argument('<name>', 'the schedule'),
  );
  return scheduleFlags(runOptions(cmd, registry, { runbookArgument: false }), { update: true }).action(
    async (given: string, flags: ScheduleFlags & RunFlags & EngineFlags) => {
      const name = scheduleName(given);
      await withClient(flags, async (client) => {
        const { description } = await scheduleHandle(client, name);
        const prev = partsOf(description);
        const next = updatedParts(prev, flags, registry);
        await updateSchedule(client, next, Date.now(), prev.ref?.repeats);
        say(`schedule ${name} updated: ${whenText(next.def.timing.when)} in ${next.def.timing.timezone}`);
      });
    },
  );
}

function listCommand(): Command {
  return engineOptions(new Command('list').description('List the runbook schedules (not tatd’s invokers)'))
    .option('--json', 'as JSON (docs/schedules.md)')
    .action(async (flags: EngineFlags & { json?: boolean }) => {
      await withClient(flags, async (client) => {
        const list = await listSchedules(client);
        say(flags.json ? JSON.stringify(list, null, 2) : renderList(list));
      });
    });
}

function describeCommand(): Command {
  return engineOptions(
    new Command('describe').description(
      'A schedule: its definition, the next 10 fire times in its zone (DST rule applied), its recent runs and the fires that started nothing',
    ),
  )
    .argument('<name>', 'the schedule')
    .option('--runs <n>', 'how many recent runs (default 10)')
    .option('--json', 'as JSON (docs/schedules.md)')
    .action(async (given: string, flags: EngineFlags & { json?: boolean; runs?: string }) => {
      const name = scheduleName(given);
      const runs = flags.runs === undefined ? 10 : Number(flags.runs);
      if (!Number.isInteger(runs) || runs < 1)
        throw new Error(`--runs: expected a whole number ≥ 1, got "${flags.runs}"`);
      await withClient(flags, async (client) => {
        const v = await describeSchedule(client, name, { runs });
        say(flags.json ? JSON.stringify(v, null, 2) : renderSchedule(v));
      });
    });
}

function pauseCommands(): Command[] {
  return (['pause', 'unpause'] as const).map((verb) =>
    engineOptions(
      new Command(verb).description(
        verb === 'pause'
          ? 'Pause a schedule: no fire starts a run until unpaused (runs in flight go on)'
          : 'Unpause a schedule',
      ),
    )
      .argument('<name>', 'the schedule')
      .option('--note <text>', 'why (shown by list and describe)')
      .action(async (given: string, flags: EngineFlags & { note?: string }) => {
        const name = scheduleName(given);
        await withClient(flags, async (client) => {
          const { handle } = await scheduleHandle(client, name);
          if (verb === 'pause') await handle.pause(flags.note ?? 'paused with tatflow schedule pause');
          else await handle.unpause(flags.note ?? 'unpaused with tatflow schedule unpause');
          say(`schedule ${name} ${verb}d`);
        });
      }),
  );
}

function triggerCommand(): Command {
  return engineOptions(
    new Command('trigger').description(
      'Start a run now, as a fire would: the schedule’s overlap policy applies (--overlap overrides it)',
    ),
  )
    .argument('<name>', 'the schedule')
    .option('--overlap <policy>', `this time only: ${OVERLAPS.join(', ')}`)
    .action(async (given: string, flags: EngineFlags & { overlap?: string }) => {
      const name = scheduleName(given);
      const override = overlapFlag(flags.overlap);
      await withClient(flags, async (client) => {
        const { handle, description } = await scheduleHandle(client, name);
        // The SDK's trigger() allows all unless told; a fire keeps to the schedule's policy.
        const policy: ScheduleOverlapPolicy = override
          ? temporalOverlap(override)
          : (description.policies.overlap ?? 'SKIP');
        await handle.trigger(policy);
        say(
          `schedule ${name} triggered (overlap ${overlapName(policy)}): see the run with: tatflow schedule describe ${name}`,
        );
      });
    });
}

function backfillCommand(): Command {
  return engineOptions(
    new Command('backfill').description(
      'Run the fires a schedule had between two times (after an outage, say), at once, as the overlap policy allows',
    ),
  )
    .argument('<name>', 'the schedule')
    .requiredOption('--from <time>', 'start: a date or date and time in the schedule’s zone, or an instant')
    .requiredOption('--to <time>', 'end (inclusive)')
    .option('--overlap <policy>', `for these fires: ${OVERLAPS.join(', ')} (default: the schedule’s)`)
    .action(async (given: string, flags: EngineFlags & { from: string; to: string; overlap?: string }) => {
      const name = scheduleName(given);
      const override = overlapFlag(flags.overlap);
      await withClient(flags, async (client) => {
        const { handle, description } = await scheduleHandle(client, name);
        const zone = partsOf(description).def.timing.timezone;
        const start = new Date(parseTime('from', flags.from, zone));
        const end = new Date(parseTime('to', flags.to, zone));
        if (end <= start) throw new Error(`--to: ${flags.to} is not after --from ${flags.from}`);
        await handle.backfill({
          start,
          end,
          ...(override ? { overlap: temporalOverlap(override) } : {}),
        });
        say(
          `schedule ${name}: fires from ${localTime(zone, start.getTime())} to ${localTime(zone, end.getTime())} started as the overlap policy allows; see them with: tatflow schedule describe ${name}`,
        );
      });
    });
}

function deleteCommand(): Command {
  return engineOptions(new Command('delete').description('Delete a schedule (runs it started go on)'))
    .argument('<name>', 'the schedule')
    .action(async (given: string, flags: EngineFlags) => {
      const name = scheduleName(given);
      await withClient(flags, async (client) => {
        const { handle } = await scheduleHandle(client, name);
        await handle.delete();
        say(`schedule ${name} deleted; runs it started go on (tatflow status <run>)`);
      });
    });
}

export function scheduleCommand(registry: RunbookRegistry = builtInRunbooks): Command {
  const cmd = new Command('schedule').description(
    'Runbook schedules: recurring runs on Temporal Schedules, with DST rules and maintenance windows',
  );
  for (const c of [
    createCommand(registry),
    listCommand(),
    describeCommand(),
    updateCommand(registry),
    ...pauseCommands(),
    triggerCommand(),
    backfillCommand(),
    deleteCommand(),
    mirrorCommand(registry),
  ])
    cmd.addCommand(c);
  return cmd;
}
