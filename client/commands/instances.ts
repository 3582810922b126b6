// `tatflow instances`: the fleet as the TAT endpoint reports it (activities/fleet.ts), optionally
// narrowed by `--select` (the language `run` and `preview` take), as a table or `--json`.

import { Command } from 'commander';
import { clientsFor } from '../../activities/clients.js';
import { describeFleet, selectFrom, type FleetInstance } from '../../activities/fleet.js';
import { KIND_PREFIX, parseSelector } from '../../activities/selector.js';
import { collect } from '../flags.js';
import { printJson, type InstancesJson } from '../json-output.js';
import { checkSelectors } from '../run-options.js';
import { tatOptions, tatSettings, type EngineFlags } from '../settings.js';
import { renderTable } from '../table.js';
import { callTat } from '../tat-reach.js';

interface InstancesFlags extends Pick<EngineFlags, 'tatEndpoint' | 'region' | 'credentialsFile'> {
  select?: string[];
  json?: boolean;
}

const json = (i: FleetInstance): InstancesJson['instances'][number] => ({
  id: i.id,
  kind: i.kind,
  name: i.name ?? null,
  online: i.online,
  agentVersion: i.agentVersion ?? null,
  os: i.os ?? null,
  tags: i.tags,
  hostname: i.hostname ?? null,
  localIp: i.localIp ?? null,
  lastHeartbeat: i.lastHeartbeat ?? null,
  registeredAt: i.registeredAt ?? null,
});

function table(out: InstancesJson): string {
  const lines: string[] = [];
  const online = out.instances.filter((i) => i.online).length;
  const selected = out.select.length ? ` matching ${out.select.map((s) => `"${s}"`).join(' or ')}` : '';
  lines.push(`${out.instances.length} instance(s)${selected} in ${out.region}; ${online} online`);
  if (out.instances.length)
    lines.push(
      renderTable(
        ['instance', 'name', 'agent', 'version', 'os', 'kind', 'tags'],
        out.instances.map((i) => [
          i.id,
          i.name ?? '',
          i.online ? 'online' : 'offline',
          i.agentVersion ?? '',
          i.os ?? '',
          KIND_PREFIX[i.kind],
          i.tags.map((t) => `${t.key}=${t.value}`).join(', '),
        ]),
      ),
    );
  if (out.instances.some((i) => i.kind !== 'managed'))
    lines.push(
      'CVM (ins-) and Lighthouse (lhins-) names and tags live in the CVM and Lighthouse APIs, which ' +
        'tatflow does not call: only managed (rins-) instances have them here.',
    );
  if (!out.managedListed)
    lines.push(
      `The endpoint does not offer DescribeRegisterInstances in ${out.region}: no managed-instance names or tags.`,
    );
  return lines.join('\n');
}

export function instancesCommand(): Command {
  return tatOptions(
    new Command('instances').description(
      'List the fleet as the TAT endpoint reports it: id, name, agent status and version, OS, kind, tags',
    ),
  )
    .option(
      '--select <terms>',
      'only instances matching every term, e.g. tag:env=prod,os=linux,online (repeat for OR; see docs/cli.md)',
      collect,
    )
    .option('--json', 'print JSON (docs/cli.md, "tatflow instances --json")')
    .action(async (flags: InstancesFlags) => {
      const select = checkSelectors(flags.select ?? []);
      const selectors = select.map(parseSelector);
      const s = tatSettings(flags);
      const tat = clientsFor(s.tat)(s.region);
      const fleet = await callTat(s.tat.endpoint, () => describeFleet(tat));
      const out: InstancesJson = {
        region: s.region,
        managedListed: fleet.managedListed,
        select,
        instances: selectFrom(fleet, selectors, s.region).map(json),
      };
      if (flags.json) printJson(out);
      else process.stdout.write(`${table(out)}\n`);
    });
}
