// Public commands and scenes, and regions with their state, through the official SDK: DescribeScenes,
// DescribeCommands with `created-by` / `scene-id`, the refusal to change public commands, and
// InvokeCommand of every public command on real agents. Package managers and systemctl are PATH
// shims that record their arguments (TATFLOW_TASK_PATH_PREFIX), so the host is never changed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_REGIONS, parseServerConfig } from '../../server/config.js';
import { PUBLIC_COMMANDS } from '../../server/public/commands.js';
import { PUBLIC_SCENES } from '../../server/public/scenes.js';
import { findPlaceholders, isDocumentedCode, isId, LIMITS } from '../../tat/index.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, outputOf, waitFinal, type Task } from '../helpers/invocations.js';
import { client, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';
import { taskUser, taskDefaults } from '../../testkit/task-user.js';

const ACCOUNT = { secretId: 'AKIDpublic', secretKey: 'public-secret', appId: '1400000001' };
const OTHER = { secretId: 'AKIDpublic2', secretKey: 'public-secret-2', appId: '1400000002' };
const user = taskUser().name;
const work = taskUser().dir('public');
const UNAVAILABLE = { Region: 'ap-mumbai', RegionName: 'South Asia (Mumbai)', RegionState: 'UNAVAILABLE' };
const NAMES = PUBLIC_COMMANDS.map((c) => c.name);
const idOf = (name: string) => PUBLIC_COMMANDS.find((c) => c.name === name)!.id;

let tatd: Tatd;
let tat: TatClient;
let agents: AgentProcess[];
let ids: string[];
const invoked = new Set<string>();

/** Stand-ins for the tools that would change the machine: each records its arguments. */
const SHIMS: Record<string, string> = {
  'apt-get': `case " $* " in *" no-such-pkg "*) echo "E: Unable to locate package no-such-pkg" >&2; exit 100 ;; esac
case " $* " in *" --simulate "*) echo "Inst openssl [3.0.1] (3.0.2 Debian:12/stable [amd64])"
  echo "Inst curl [7.88.0] (7.88.1 Debian:12/stable [amd64])" ;; esac
[ "$1" = update ] && echo "Reading package lists... Done"
exit 0`,
  dnf: `[ "$2" = check-update ] && { echo "openssl.x86_64 1:3.0.7-25.el9 baseos"; exit 100; }
exit 0`,
  yum: 'exit 0',
  'dpkg-query': 'shift 2; for p in "$@"; do echo "$p 1.0-shim"; done',
  rpm: 'shift; for p in "$@"; do echo "$p-1.0-1.shim.x86_64"; done',
  systemctl: `case "$1" in
  restart) [ "$2" = broken.service ] && { echo "Job for broken.service failed." >&2; exit 1; } ;;
  is-active) echo active ;;
  status) echo "* $5 - shim unit"; echo "     Active: active (running)" ;;
  list-units) echo "0 loaded units listed." ;;
esac
exit 0`,
};

function writeShims(machine: string): string {
  const dir = join(work, 'shims', machine);
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(SHIMS)) {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\necho "${name} $*" >> ${join(work, `${machine}.log`)}\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

const shimLog = (i: number) => {
  const f = join(work, `public-${i}.log`);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};

/** Runs a public command and waits for its tasks (with output). */
async function run(name: string, params?: Record<string, string>, on = [ids[0]!]): Promise<Task[]> {
  invoked.add(name);
  const { InvocationId } = await tat.InvokeCommand({
    CommandId: idOf(name),
    InstanceIds: on,
    ...(params ? { Parameters: JSON.stringify(params) } : {}),
  });
  const { tasks } = await waitFinal(tat, InvocationId!, 60_000);
  return tasks;
}

async function runOne(name: string, params?: Record<string, string>): Promise<{ task: Task; out: string }> {
  const [task] = await run(name, params);
  return { task: task!, out: outputOf(task!) };
}

before(async () => {
  tatd = await startTatd({
    accounts: [
      `${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`,
      `${OTHER.secretId}:${OTHER.secretKey}:${OTHER.appId}`,
    ],
    openEnrollment: true,
    config: {
      defaults: taskDefaults(work),
      regions: [...DEFAULT_REGIONS, UNAVAILABLE],
      quotas: { command: 2 },
    },
  });
  tat = client(tatd, ACCOUNT);
  agents = [0, 1].map((i) =>
    startAgent(tatd.url, {
      machineId: `public-${i}`,
      account: ACCOUNT.appId,
      env: { TATFLOW_TASK_PATH_PREFIX: writeShims(`public-${i}`) },
    }),
  );
  ids = agents.map((a) => a.instanceId);
  await waitAgents(tat, ids);
  // Nothing below may reach the real package managers or systemd of this machine.
  const { InvocationId } = await tat.RunCommand({
    Content: b64('for c in apt-get dnf yum dpkg-query rpm systemctl; do command -v "$c"; done'),
    InstanceIds: ids,
  });
  const { tasks } = await waitFinal(tat, InvocationId!);
  for (const [i, t] of tasks.entries()) {
    const found = outputOf(t).trim().split('\n');
    assert.equal(found.length, 6, outputOf(t));
    for (const path of found)
      assert.ok(path.startsWith(join(work, 'shims')), `task ${i} would run ${path}, not a shim`);
  }
});

after(async () => {
  await Promise.all((agents ?? []).map((a) => a.stop()));
  await tatd?.stop();
});

describe('the catalogue', () => {
  test('ids, names and descriptions follow the rules of user commands; ids never change form', () => {
    assert.ok(PUBLIC_COMMANDS.length >= 9);
    assert.equal(new Set(PUBLIC_COMMANDS.map((c) => c.id)).size, PUBLIC_COMMANDS.length);
    assert.equal(new Set(NAMES).size, NAMES.length);
    const scenes = new Set(PUBLIC_SCENES.map((s) => s.id));
    assert.equal(scenes.size, PUBLIC_SCENES.length);
    for (const s of PUBLIC_SCENES) assert.match(s.id, /^sc-[a-z0-9]{8}$/);
    for (const c of PUBLIC_COMMANDS) {
      assert.match(c.id, /^cmd-[a-z0-9]{8}$/);
      assert.ok(isId('command', c.id));
      assert.match(c.name, /^TAT_[A-Za-z]+$/);
      assert.ok(c.description.length <= LIMITS.commandDescriptionChars, `${c.name}: description too long`);
      assert.ok(Buffer.from(c.script).toString('base64').length <= LIMITS.contentBase64Bytes);
      assert.ok(c.scenes.length > 0 && c.scenes.every((s) => scenes.has(s)), `${c.name}: scenes`);
    }
    for (const s of PUBLIC_SCENES)
      assert.ok(
        PUBLIC_COMMANDS.some((c) => c.scenes.includes(s.id)),
        `scene ${s.name} has commands`,
      );
  });

  test('each script uses exactly its parameters, reads each once from a quoted here-document, and is valid bash', () => {
    for (const c of PUBLIC_COMMANDS) {
      const used = findPlaceholders(c.script);
      assert.deepEqual(
        used.map((p) => p.name).sort(),
        c.parameters.map((p) => p.name).sort(),
        `${c.name}: placeholders`,
      );
      for (const p of c.parameters) {
        assert.equal(c.script.split(`{{${p.name}}}`).length, 2, `${c.name}: {{${p.name}}} once`);
        assert.match(c.script, new RegExp(`<<'TAT_PARAM'\\n\\{\\{${p.name}\\}\\}\\nTAT_PARAM\\n`));
        if (p.default !== undefined) assert.ok(p.test(p.default), `${c.name}: the default of ${p.name}`);
        assert.equal(p.test('ok\nTAT_PARAM'), false, `${c.name}: ${p.name} admits a line break`);
      }
      execFileSync('bash', ['-n'], { input: c.script });
    }
  });
});

describe('DescribeScenes', () => {
  const names = (r: Awaited<ReturnType<TatClient['DescribeScenes']>>) => r.SceneSet!.map((s) => s.SceneName);

  test('lists every public scene, the same for every account and region', async () => {
    const r = await tat.DescribeScenes({});
    assert.equal(r.TotalCount, PUBLIC_SCENES.length);
    assert.deepEqual(
      r.SceneSet!.map((s) => s.SceneId),
      PUBLIC_SCENES.map((s) => s.id),
    );
    for (const s of r.SceneSet!) {
      assert.equal(s.CreatedBy, 'TAT');
      assert.match(s.CreatedTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(s.UpdatedTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    const other = await client(tatd, { ...OTHER, region: 'ap-singapore' }).DescribeScenes({});
    assert.deepEqual(other.SceneSet, r.SceneSet);
  });

  test('SceneIds, filters (AND-ed; values OR-ed) and paging', async () => {
    const [a, b, c] = PUBLIC_SCENES;
    assert.deepEqual(names(await tat.DescribeScenes({ SceneIds: [b!.id, 'sc-zzzzzzzz'] })), [b!.name]);
    assert.deepEqual(
      names(await tat.DescribeScenes({ Filters: [{ Name: 'scene-id', Values: [c!.id, a!.id] }] })),
      [a!.name, c!.name],
    );
    assert.deepEqual(
      names(await tat.DescribeScenes({ Filters: [{ Name: 'scene-name', Values: [b!.name] }] })),
      [b!.name],
    );
    assert.deepEqual(
      names(await tat.DescribeScenes({ Filters: [{ Name: 'scene-name', Values: ['Package'] }] })),
      [],
      'scene names match whole',
    );
    const both = await tat.DescribeScenes({
      Filters: [
        { Name: 'created-by', Values: ['TAT'] },
        { Name: 'scene-id', Values: [a!.id, b!.id] },
        { Name: 'scene-name', Values: [b!.name, c!.name] },
      ],
    });
    assert.deepEqual(names(both), [b!.name]);
    assert.equal(
      (await tat.DescribeScenes({ Filters: [{ Name: 'created-by', Values: ['TAT'] }] })).TotalCount,
      PUBLIC_SCENES.length,
    );
    const page = await tat.DescribeScenes({ Offset: 1, Limit: 2 });
    assert.equal(page.TotalCount, PUBLIC_SCENES.length);
    assert.deepEqual(
      page.SceneSet!.map((s) => s.SceneId),
      PUBLIC_SCENES.slice(1, 3).map((s) => s.id),
    );
    assert.deepEqual((await tat.DescribeScenes({ Offset: 50 })).SceneSet, []);
  });

  test('errors', async () => {
    const cases: [Parameters<TatClient['DescribeScenes']>[0], string][] = [
      [{ SceneIds: ['scene-1'] }, 'InvalidParameterValue.InvalidSceneId'],
      [{ Filters: [{ Name: 'scene-id', Values: ['cmd-aaaaaaaa'] }] }, 'InvalidParameterValue.InvalidSceneId'],
      [{ Filters: [{ Name: 'scene-name', Values: [''] }] }, 'InvalidParameterValue.InvalidSceneName'],
      [
        { Filters: [{ Name: 'scene-name', Values: ['x'.repeat(61)] }] },
        'InvalidParameterValue.InvalidSceneName',
      ],
      [{ Filters: [{ Name: 'created-by', Values: ['USER'] }] }, 'InvalidParameterValue.InvalidFilter'],
      [
        { Filters: [{ Name: 'command-id', Values: ['cmd-aaaaaaaa'] }] },
        'InvalidParameterValue.InvalidFilter',
      ],
      [{ Filters: [{ Name: 'scene-id', Values: [] }] }, 'InvalidParameterValue.InvalidFilter'],
      [
        { Filters: [{ Name: 'scene-name', Values: ['a', 'b', 'c', 'd', 'e', 'f'] }] },
        'LimitExceeded.FilterValueExceeded',
      ],
      [{ SceneIds: [PUBLIC_SCENES[0]!.id], Filters: [] }, 'InvalidParameter.ConflictParameter'],
      [{ Limit: 101 }, 'InvalidParameterValue'],
      [
        { SceneIds: Array.from({ length: 101 }, (_, i) => `sc-${String(i).padStart(8, '0')}`) },
        'InvalidParameterValue',
      ],
    ];
    for (const [req, code] of cases) {
      assert.ok(isDocumentedCode('DescribeScenes', code), code);
      await expectTatError(tat.DescribeScenes(req), code);
    }
  });
});

describe('public commands in DescribeCommands', () => {
  test('created-by=TAT lists the catalogue: read-only fields, scenes, parameters with defaults', async () => {
    const r = await tat.DescribeCommands({ Filters: [{ Name: 'created-by', Values: ['TAT'] }], Limit: 100 });
    assert.equal(r.TotalCount, PUBLIC_COMMANDS.length);
    assert.deepEqual(
      r.CommandSet!.map((c) => c.CommandName),
      NAMES,
    );
    for (const [i, c] of r.CommandSet!.entries()) {
      const def = PUBLIC_COMMANDS[i]!;
      assert.equal(c.CommandId, def.id);
      assert.equal(c.CreatedBy, 'TAT');
      assert.equal(c.CommandType, 'SHELL');
      assert.equal(c.EnableParameter, true);
      assert.equal(c.Username, user, 'the server default user, as for user commands');
      assert.equal(c.WorkingDirectory, work);
      assert.equal(c.Timeout, def.timeout);
      assert.deepEqual(c.Scenes, def.scenes);
      assert.deepEqual(c.Tags, []);
      assert.equal(Buffer.from(c.Content!, 'base64').toString(), def.script);
      const defaults = def.parameters.filter((p) => p.default !== undefined);
      assert.deepEqual(
        c.DefaultParameterConfs,
        defaults.map((p) => ({
          ParameterName: p.name,
          ParameterValue: p.default,
          ParameterDescription: p.description,
        })),
      );
      assert.deepEqual(
        c.DefaultParameters ? JSON.parse(c.DefaultParameters) : {},
        Object.fromEntries(defaults.map((p) => [p.name, p.default])),
      );
      const formatted = JSON.parse(c.FormattedDescription!) as {
        scenes: string[];
        cmd_description: { en: string; 'zh-cn': string };
        parameters: { name: string; required: boolean; rule: string }[];
      };
      assert.deepEqual(formatted.scenes, def.scenes);
      assert.equal(formatted.cmd_description.en, c.Description);
      assert.ok(formatted.cmd_description['zh-cn'].length > 0);
      assert.deepEqual(
        formatted.parameters.map((p) => [p.name, p.required]),
        def.parameters.map((p) => [p.name, p.default === undefined]),
      );
    }
    const other = await client(tatd, { ...OTHER, region: 'eu-frankfurt' }).DescribeCommands({
      Filters: [{ Name: 'created-by', Values: ['TAT'] }],
      Limit: 100,
    });
    assert.deepEqual(
      other.CommandSet!.map((c) => c.CommandId),
      PUBLIC_COMMANDS.map((c) => c.id),
      'every account sees them in every region',
    );
  });

  test('scene-id lists the commands of a scene; user commands are in none', async () => {
    for (const s of PUBLIC_SCENES) {
      const r = await tat.DescribeCommands({ Filters: [{ Name: 'scene-id', Values: [s.id] }] });
      assert.deepEqual(
        r.CommandSet!.map((c) => c.CommandName),
        PUBLIC_COMMANDS.filter((c) => c.scenes.includes(s.id)).map((c) => c.name),
      );
      for (const c of r.CommandSet!) assert.ok(c.Scenes!.includes(s.id));
    }
    const two = await tat.DescribeCommands({
      Filters: [{ Name: 'scene-id', Values: [PUBLIC_SCENES[0]!.id, PUBLIC_SCENES[1]!.id] }],
    });
    assert.equal(
      two.TotalCount,
      PUBLIC_COMMANDS.filter((c) =>
        c.scenes.some((s) => s === PUBLIC_SCENES[0]!.id || s === PUBLIC_SCENES[1]!.id),
      ).length,
    );
    const none = await tat.DescribeCommands({
      Filters: [
        { Name: 'scene-id', Values: [PUBLIC_SCENES[0]!.id] },
        { Name: 'created-by', Values: ['USER'] },
      ],
    });
    assert.equal(none.TotalCount, 0);
    assert.equal(
      (await tat.DescribeCommands({ Filters: [{ Name: 'scene-id', Values: ['sc-zzzzzzzz'] }] })).TotalCount,
      0,
    );
    await expectTatError(
      tat.DescribeCommands({ Filters: [{ Name: 'scene-id', Values: ['not-a-scene'] }] }),
      'InvalidParameterValue',
    );
  });

  test('without a created-by filter both kinds are listed, the user commands first, paged as one list', async () => {
    const sh = client(tatd, { ...ACCOUNT, region: 'ap-shanghai' });
    const mine = [];
    for (const name of ['first', 'second'])
      mine.push((await sh.CreateCommand({ CommandName: name, Content: b64('true') })).CommandId!);
    const all = [...mine.reverse(), ...PUBLIC_COMMANDS.map((c) => c.id)];
    const page = async (Offset: number, Limit: number) => {
      const r = await sh.DescribeCommands({ Offset, Limit });
      assert.equal(r.TotalCount, all.length);
      return r.CommandSet!.map((c) => c.CommandId);
    };
    assert.deepEqual(await page(0, 5), all.slice(0, 5));
    assert.deepEqual(await page(5, 5), all.slice(5, 10));
    assert.deepEqual(await page(10, 5), all.slice(10));
    const user = await sh.DescribeCommands({ Filters: [{ Name: 'created-by', Values: ['USER'] }] });
    assert.deepEqual(
      user.CommandSet!.map((c) => c.CommandId),
      mine,
    );
    assert.deepEqual(user.CommandSet![0]!.Scenes, []);
    assert.equal(user.CommandSet![0]!.FormattedDescription, '');
    const both = await sh.DescribeCommands({
      Filters: [{ Name: 'created-by', Values: ['USER', 'TAT'] }],
      Limit: 100,
    });
    assert.equal(both.TotalCount, all.length);
    // Other filters and ids apply to public commands too.
    const byIds = await sh.DescribeCommands({
      CommandIds: [idOf('TAT_CheckPort'), mine[0]!, 'cmd-zzzzzzzz'],
    });
    assert.deepEqual(
      byIds.CommandSet!.map((c) => c.CommandId),
      [mine[0], idOf('TAT_CheckPort')],
    );
    const byName = await sh.DescribeCommands({
      Filters: [{ Name: 'command-name', Values: ['TAT_RotateLogs'] }],
    });
    assert.deepEqual(
      byName.CommandSet!.map((c) => c.CommandId),
      [idOf('TAT_RotateLogs')],
    );
    const powershell = await sh.DescribeCommands({
      Filters: [{ Name: 'command-type', Values: ['POWERSHELL'] }],
    });
    assert.equal(powershell.TotalCount, 0);
    const tagged = await sh.DescribeCommands({ Filters: [{ Name: 'tag-key', Values: ['env'] }] });
    assert.equal(tagged.TotalCount, 0);
  });

  test('public commands do not count toward the COMMAND quota (2 here), nor does running them', async () => {
    const sh = client(tatd, { ...ACCOUNT, region: 'ap-shanghai' });
    await expectTatError(
      sh.CreateCommand({ CommandName: 'third', Content: b64('true') }),
      'ResourceUnavailable.UserHasNoQuotaCode',
    );
    const fresh = client(tatd, { ...ACCOUNT, region: 'ap-beijing' });
    await fresh.CreateCommand({ CommandName: 'one', Content: b64('true') });
    await fresh.CreateCommand({ CommandName: 'two', Content: b64('true') });
    const listed = await fresh.DescribeCommands({});
    assert.equal(listed.TotalCount, 2 + PUBLIC_COMMANDS.length);
  });
});

describe('public commands are read-only', () => {
  test('ModifyCommand, DeleteCommand and DeleteCommands refuse them; nothing of a mixed batch is deleted', async () => {
    const id = idOf('TAT_RestartService');
    const msg = await expectTatError(
      tat.ModifyCommand({ CommandId: id, Description: 'mine now' }),
      'InvalidParameterValue',
    );
    assert.match(msg, /public command/);
    await expectTatError(tat.DeleteCommand({ CommandId: id }), 'InvalidParameterValue');
    const { CommandId: own } = await tat.CreateCommand({ CommandName: 'mixed-batch', Content: b64('true') });
    await expectTatError(tat.DeleteCommands({ CommandIds: [own!, id] }), 'InvalidParameterValue');
    assert.equal((await tat.DescribeCommands({ CommandIds: [own!, id] })).TotalCount, 2);
    const after = await tat.DescribeCommands({ CommandIds: [id] });
    assert.equal(after.CommandSet![0]!.Description, PUBLIC_COMMANDS.find((c) => c.id === id)!.description);
    for (const action of ['ModifyCommand', 'DeleteCommand', 'DeleteCommands'] as const)
      assert.ok(isDocumentedCode(action, 'InvalidParameterValue'));
    await tat.DeleteCommand({ CommandId: own! });
  });

  test('PreviewReplacedCommandContent shows a public script with defaults and parameters substituted', async () => {
    const r = await tat.PreviewReplacedCommandContent({
      CommandId: idOf('TAT_CheckPort'),
      Parameters: JSON.stringify({ port: '8080' }),
    });
    const script = Buffer.from(r.ReplacedContent!, 'base64').toString();
    assert.match(script, /<<'TAT_PARAM'\n127\.0\.0\.1\nTAT_PARAM\n/);
    assert.match(script, /<<'TAT_PARAM'\n8080\nTAT_PARAM\n/);
    assert.doesNotMatch(script, /\{\{/);
    await expectTatError(
      tat.PreviewReplacedCommandContent({
        CommandId: idOf('TAT_CheckPort'),
        Parameters: JSON.stringify({ port: '80; reboot' }),
      }),
      'InvalidParameterValue',
    );
  });
});

describe('InvokeCommand of public commands on real agents', () => {
  test('parameter values are checked before anything runs', async () => {
    const bad: [string, Record<string, string> | undefined, string][] = [
      ['TAT_RestartService', { service: 'nginx; reboot' }, 'InvalidParameterValue'],
      ['TAT_RestartService', { service: 'nginx\nTAT_PARAM\nreboot' }, 'InvalidParameterValue'],
      ['TAT_RestartService', undefined, 'InvalidParameterValue.LackOfParameterInfo'],
      ['TAT_InstallPackages', { packages: 'curl $(reboot)' }, 'InvalidParameterValue'],
      ['TAT_CheckPort', { port: '70000' }, 'InvalidParameterValue'],
      ['TAT_CheckPort', { port: '22', timeout: '0' }, 'InvalidParameterValue'],
      ['TAT_RotateLogs', { directory: '/' }, 'InvalidParameterValue'],
      ['TAT_RotateLogs', { directory: '/var/log/../../etc' }, 'InvalidParameterValue'],
      ['TAT_CheckHttp', { url: "http://example.com/'" }, 'InvalidParameterValue'],
      ['TAT_DiskMemoryReport', { threshold: '101' }, 'InvalidParameterValue'],
      [
        'TAT_DiskMemoryReport',
        { threshold: 90 } as unknown as Record<string, string>,
        'InvalidParameterValue.ParameterValueNotString',
      ],
    ];
    for (const [name, params, code] of bad) {
      const msg = await expectTatError(
        tat.InvokeCommand({
          CommandId: idOf(name),
          InstanceIds: [ids[0]!],
          ...(params ? { Parameters: JSON.stringify(params) } : {}),
        }),
        code,
      );
      if (code === 'InvalidParameterValue') assert.match(msg, new RegExp(`of ${name} must be`));
    }
    const inv = await tat.DescribeInvocations({
      Filters: [{ Name: 'command-created-by', Values: ['TAT'] }],
    });
    assert.equal(inv.TotalCount, 0, 'no refused call created an invocation');
  });

  test('TAT_DiskMemoryReport: a report; exit 1 with the warnings at or above the threshold', async () => {
    const low = await runOne('TAT_DiskMemoryReport', { threshold: '1' });
    assert.equal(low.task.TaskStatus, 'FAILED');
    assert.equal(low.task.TaskResult!.ExitCode, 1);
    assert.match(low.out, /== Filesystems \(warning at 1% used\) ==/);
    assert.match(low.out, /\nmemory: \d+% used \(\d+ MiB of \d+ MiB/);
    assert.match(low.out, /WARNING: memory at \d+%/);
    assert.match(low.out, /WARNING: \/\S* space at \d+%/);
    assert.match(low.out, /\d+ warning\(s\): at or above 1%\n$/);
    // The default threshold (90%): whatever this machine's usage, the verdict matches the warnings.
    const dflt = await runOne('TAT_DiskMemoryReport');
    assert.match(dflt.out, /warning at 90% used/);
    const warned = /^WARNING: /m.test(dflt.out);
    assert.equal(dflt.task.TaskResult!.ExitCode, warned ? 1 : 0, dflt.out);
    if (!warned) assert.match(dflt.out, /OK: every filesystem, memory and swap below 90%\n$/);
  });

  test('TAT_CollectDiagnostics: every section, on several instances at once', async () => {
    const tasks = await run('TAT_CollectDiagnostics', { top: '3' }, ids);
    assert.equal(tasks.length, 2);
    for (const t of tasks) {
      const out = outputOf(t);
      assert.equal(t.TaskStatus, 'SUCCESS', out);
      for (const section of [
        'System',
        'CPU and load',
        'Memory',
        'Disks',
        'Top 3 processes by CPU',
        'Top 3 processes by memory',
        'Listening sockets',
        'Failed systemd units',
        'Kernel messages (last 50)',
        'Journal errors (last 50)',
      ])
        assert.ok(out.includes(`\n== ${section} ==\n`), `section ${section}`);
      assert.match(out, /\nkernel: Linux /);
      assert.match(out, /0 loaded units listed\./);
      const cpu = out.split('== Top 3 processes by CPU ==\n')[1]!.split('\n\n')[0]!.split('\n');
      assert.equal(cpu.length, 4, 'a header and 3 processes');
      assert.match(out, /OK: diagnostics collected\n$/);
    }
    assert.match(shimLog(0), /^systemctl list-units --failed --no-legend --no-pager --plain$/m);
    assert.match(shimLog(1), /^systemctl list-units --failed/m);
  });

  test('TAT_FindLargeFiles: the largest files first, small ones left out', async () => {
    const dir = join(work, 'large');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'three.bin'), Buffer.alloc(3 * 1024 * 1024));
    writeFileSync(join(dir, 'two.bin'), Buffer.alloc(2 * 1024 * 1024));
    writeFileSync(join(dir, 'small.bin'), Buffer.alloc(100 * 1024));
    const { task, out } = await runOne('TAT_FindLargeFiles', { directory: dir, minSizeMB: '1', count: '5' });
    assert.equal(task.TaskStatus, 'SUCCESS', out);
    const files = out.split('\n\n')[0]!.split('\n').slice(1);
    assert.equal(files.length, 2, out);
    assert.match(files[0]!, /^\s+3\.0 MiB {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}.*\/sub\/three\.bin$/);
    assert.match(files[1]!, /2\.0 MiB .*\/two\.bin$/);
    assert.doesNotMatch(out, /small\.bin/);
    assert.match(
      out,
      /== Largest directories directly under .*\n\s+5\.\d MiB {2}.*\/large\n\s+3\.0 MiB {2}.*\/large\/sub\n/,
    );
  });

  test('TAT_InstallPackages: apt-get by default, the package manager named, failures exit 1', async () => {
    const apt = await runOne('TAT_InstallPackages', { packages: 'curl jq=1.6' });
    assert.equal(apt.task.TaskStatus, 'SUCCESS', apt.out);
    assert.match(apt.out, /== Installing with apt-get: curl jq=1\.6 ==/);
    assert.match(
      apt.out,
      /== Installed ==\ncurl 1\.0-shim\njq 1\.0-shim\nOK: 2 package\(s\) installed with apt-get\n$/,
    );
    const log = shimLog(0);
    assert.match(log, /^apt-get update -q$/m);
    assert.match(
      log,
      /^apt-get install -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold curl jq=1\.6$/m,
    );
    const yum = await runOne('TAT_InstallPackages', { packages: 'nginx', packageManager: 'yum' });
    assert.equal(yum.task.TaskStatus, 'SUCCESS', yum.out);
    assert.match(shimLog(0), /^yum install -y nginx$/m);
    assert.match(yum.out, /nginx-1\.0-1\.shim\.x86_64\nOK: 1 package\(s\) installed with yum\n$/);
    const missing = await runOne('TAT_InstallPackages', { packages: 'no-such-pkg' });
    assert.equal(missing.task.TaskStatus, 'FAILED');
    assert.equal(missing.task.TaskResult!.ExitCode, 1);
    assert.match(
      missing.out,
      /E: Unable to locate package no-such-pkg\nERROR: apt-get failed with exit code 100\n$/,
    );
  });

  test('TAT_UpgradePackages: a dry run lists upgrades and changes nothing; dnf upgrades the named package', async () => {
    const reboot = existsSync('/var/run/reboot-required') ? 'yes' : 'no';
    const dry = await runOne('TAT_UpgradePackages', { dryRun: 'true' });
    assert.equal(dry.task.TaskStatus, 'SUCCESS', dry.out);
    assert.match(dry.out, /every upgradable package; dry run/);
    assert.match(dry.out, /Inst openssl .*\nInst curl .*\n2 package\(s\) would be upgraded\n/);
    assert.match(
      dry.out,
      new RegExp(`reboot required: ${reboot}\nOK: dry run with apt-get, no package changed\n$`),
    );
    const upgrades = shimLog(0)
      .split('\n')
      .filter((l) => l.startsWith('apt-get upgrade'));
    assert.deepEqual(upgrades, [
      'apt-get upgrade -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --simulate',
    ]);
    const dnf = await runOne('TAT_UpgradePackages', { packages: 'openssl', packageManager: 'dnf' });
    assert.equal(dnf.task.TaskStatus, 'SUCCESS', dnf.out);
    assert.match(dnf.out, /== Upgrading with dnf: openssl ==/);
    assert.match(dnf.out, /OK: upgrade with dnf done\n$/);
    assert.match(shimLog(0), /^dnf upgrade -y openssl$/m);
    const check = await runOne('TAT_UpgradePackages', { packageManager: 'dnf', dryRun: 'true' });
    assert.equal(check.task.TaskStatus, 'SUCCESS', 'check-update exits 100 when upgrades are available');
    assert.match(check.out, /openssl\.x86_64 1:3\.0\.7-25\.el9 baseos/);
    assert.match(shimLog(0), /^dnf -q check-update$/m);
  });

  test('TAT_RestartService: restart, wait for active, status; a failed restart exits 1', async () => {
    const ok = await runOne('TAT_RestartService', { service: 'nginx.service' });
    assert.equal(ok.task.TaskStatus, 'SUCCESS', ok.out);
    assert.match(ok.out, /== Restarting nginx\.service ==\n\n== Status ==\n\* nginx\.service - shim unit\n/);
    assert.match(ok.out, /OK: nginx\.service is active\n$/);
    const log = shimLog(0);
    assert.match(
      log,
      /^systemctl restart nginx\.service\nsystemctl is-active nginx\.service\nsystemctl status --no-pager --full --lines=20 nginx\.service$/m,
    );
    const broken = await runOne('TAT_RestartService', { service: 'broken.service', waitSeconds: '0' });
    assert.equal(broken.task.TaskStatus, 'FAILED');
    assert.equal(broken.task.TaskResult!.ExitCode, 1);
    assert.match(
      broken.out,
      /Job for broken\.service failed\.\nERROR: systemctl restart broken\.service failed\n/,
    );
  });

  test('TAT_RotateLogs: copies, truncates and gzips the logs; deletes old archives only', async () => {
    const dir = join(work, 'logs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app.log'), 'line 1\nline 2\n');
    writeFileSync(join(dir, 'empty.log'), '');
    writeFileSync(join(dir, 'notes.txt'), 'not a log\n');
    const old = join(dir, 'app.log.20200101-000000.gz');
    const recent = join(dir, 'app.log.20200102-000000.gz');
    writeFileSync(old, 'old');
    writeFileSync(recent, 'recent');
    const day = 86_400;
    const now = Date.now() / 1000;
    utimesSync(old, now - 10 * day, now - 10 * day);
    utimesSync(recent, now - 2 * day, now - 2 * day);
    taskUser().own(dir);
    const { task, out } = await runOne('TAT_RotateLogs', { directory: `${dir}/` });
    assert.equal(task.TaskStatus, 'SUCCESS', out);
    const rotated = /rotated app\.log \(1 KB\) -> (app\.log\.\d{8}-\d{6}\.gz)\n/.exec(out);
    assert.ok(rotated, out);
    assert.equal(gunzipSync(readFileSync(join(dir, rotated[1]!))).toString(), 'line 1\nline 2\n');
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8'), '', 'truncated in place');
    assert.match(out, /deleted app\.log\.20200101-000000\.gz\n/);
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(recent), true, 'archives younger than keepDays stay');
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'not a log\n');
    assert.doesNotMatch(out, /empty\.log/);
    assert.match(out, /OK: 1 file\(s\) rotated, 1 old archive\(s\) deleted\n$/);
    // A second run finds nothing to do: archives are never rotated again.
    const again = await runOne('TAT_RotateLogs', { directory: dir, pattern: 'app.log*' });
    assert.match(again.out, /OK: 0 file\(s\) rotated, 0 old archive\(s\) deleted\n$/);
    const missing = await runOne('TAT_RotateLogs', { directory: join(work, 'no-such-dir') });
    assert.equal(missing.task.TaskResult!.ExitCode, 2);
    assert.match(missing.out, /ERROR: .*no-such-dir is not a directory/);
  });

  describe('network checks', () => {
    let tcp: TcpServer;
    let http: HttpServer;
    let tcpPort: number;
    let httpPort: number;
    before(async () => {
      tcp = createTcpServer((s) => s.end());
      http = createHttpServer((req, res) => {
        res.statusCode = req.url?.startsWith('/ok') ? 200 : 503;
        res.end();
      });
      await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      tcpPort = (tcp.address() as AddressInfo).port;
      httpPort = (http.address() as AddressInfo).port;
    });
    after(async () => {
      await new Promise((r) => tcp.close(r));
      await new Promise((r) => http.close(r));
    });

    test('TAT_CheckPort: an open port, a closed one', async () => {
      const open = await runOne('TAT_CheckPort', { port: String(tcpPort) });
      assert.equal(open.task.TaskStatus, 'SUCCESS', open.out);
      assert.match(open.out, /^127\.0\.0\.1 resolves to: 127\.0\.0\.1\n/);
      assert.match(
        open.out,
        new RegExp(`OK: 127\\.0\\.0\\.1:${tcpPort} accepts TCP connections \\(\\d+ ms\\)\\n$`),
      );
      const closedPort = await new Promise<number>((resolve) => {
        const s = createTcpServer();
        s.listen(0, '127.0.0.1', () => {
          const p = (s.address() as AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const closed = await runOne('TAT_CheckPort', {
        host: 'localhost',
        port: String(closedPort),
        timeout: '3',
      });
      assert.equal(closed.task.TaskStatus, 'FAILED');
      assert.equal(closed.task.TaskResult!.ExitCode, 1);
      assert.match(
        closed.out,
        new RegExp(`FAILED: cannot connect to localhost:${closedPort}: Connection refused\\n$`),
      );
    });

    test('TAT_CheckHttp: the expected status, another one, a pattern', async () => {
      const url = `http://127.0.0.1:${httpPort}`;
      const ok = await runOne('TAT_CheckHttp', { url: `${url}/ok?a=1&b=[2]` });
      assert.equal(ok.task.TaskStatus, 'SUCCESS', ok.out);
      assert.match(ok.out, /^GET .*\/ok\?a=1&b=\[2\]\nHTTP 200/);
      assert.match(ok.out, /OK: status 200 is expected \(200\)\n$/);
      const down = await runOne('TAT_CheckHttp', { url: `${url}/down` });
      assert.equal(down.task.TaskStatus, 'FAILED');
      assert.equal(down.task.TaskResult!.ExitCode, 1);
      assert.match(down.out, /FAILED: status 503, expected 200\n$/);
      const expected = await runOne('TAT_CheckHttp', {
        url: `${url}/down`,
        expectStatus: '200,5xx',
        timeout: '5',
      });
      assert.equal(expected.task.TaskStatus, 'SUCCESS', expected.out);
      assert.match(expected.out, /OK: status 503 is expected \(200,5xx\)\n$/);
    });
  });

  test('invocations of public commands: their name, the run-as defaults, command-created-by=TAT', async () => {
    const id = idOf('TAT_CheckPort');
    const r = await tat.DescribeInvocations({ Filters: [{ Name: 'command-id', Values: [id] }] });
    assert.ok(r.TotalCount! >= 2);
    for (const inv of r.InvocationSet!) {
      assert.equal(inv.CommandName, 'TAT_CheckPort');
      assert.equal(inv.Username, user);
      assert.equal(inv.WorkingDirectory, work);
      assert.equal(
        Buffer.from(inv.CommandContent!, 'base64').toString(),
        PUBLIC_COMMANDS.find((c) => c.id === id)!.script,
      );
    }
    const { InvocationId: userRun } = await tat.RunCommand({ Content: b64('true'), InstanceIds: [ids[1]!] });
    await waitFinal(tat, userRun!);
    const byTat = await tat.DescribeInvocations({
      Filters: [{ Name: 'command-created-by', Values: ['TAT'] }],
      Limit: 100,
    });
    const byUser = await tat.DescribeInvocations({
      Filters: [{ Name: 'command-created-by', Values: ['USER'] }],
      Limit: 100,
    });
    const all = await tat.DescribeInvocations({
      Filters: [{ Name: 'command-created-by', Values: ['USER', 'TAT'] }],
      Limit: 100,
    });
    assert.ok(byTat.InvocationSet!.every((i) => i.CommandName!.startsWith('TAT_')));
    assert.ok(byTat.InvocationSet!.some((i) => i.CommandId === id));
    assert.ok(byUser.InvocationSet!.every((i) => !i.CommandName!.startsWith('TAT_')));
    assert.ok(byUser.InvocationSet!.some((i) => i.InvocationId === userRun));
    assert.equal(all.TotalCount, byTat.TotalCount! + byUser.TotalCount!);
  });

  test('every public command was run', () => {
    assert.deepEqual([...invoked].sort(), [...NAMES].sort());
  });
});

describe('regions', () => {
  test('DescribeRegions shows each configured region with its RegionState', async () => {
    const r = await tat.DescribeRegions();
    assert.equal(r.TotalCount, DEFAULT_REGIONS.length + 1);
    const state = Object.fromEntries(r.RegionSet!.map((x) => [x.Region, x.RegionState]));
    for (const d of DEFAULT_REGIONS) assert.equal(state[d.Region], 'AVAILABLE');
    assert.equal(state['ap-mumbai'], 'UNAVAILABLE');
    assert.equal(r.RegionSet!.find((x) => x.Region === 'ap-mumbai')!.RegionName, 'South Asia (Mumbai)');
  });

  test('in an UNAVAILABLE region only DescribeRegions answers; the others say UnsupportedRegion', async () => {
    const mumbai = client(tatd, { ...ACCOUNT, region: 'ap-mumbai' });
    assert.equal((await mumbai.DescribeRegions()).TotalCount, DEFAULT_REGIONS.length + 1);
    const msg = await expectTatError(mumbai.DescribeCommands({}), 'UnsupportedRegion');
    assert.match(msg, /UNAVAILABLE/);
    await expectTatError(mumbai.DescribeScenes({}), 'UnsupportedRegion');
    await expectTatError(
      mumbai.InvokeCommand({ CommandId: idOf('TAT_CheckPort'), InstanceIds: [ids[0]!] }),
      'UnsupportedRegion',
    );
    await expectTatError(
      client(tatd, { ...ACCOUNT, region: 'ap-atlantis' }).DescribeScenes({}),
      'UnsupportedRegion',
    );
  });

  test('configuration: RegionState defaults to AVAILABLE; the first region must be AVAILABLE; ids unique', () => {
    const base = { data: '/tmp/x', accounts: [{ secretId: 'a', secretKey: 'b' }] };
    const c = parseServerConfig({ ...base, regions: [{ Region: 'r1', RegionName: 'One' }, UNAVAILABLE] });
    assert.deepEqual(
      c.regions.map((r) => r.RegionState),
      ['AVAILABLE', 'UNAVAILABLE'],
    );
    assert.ok(parseServerConfig(base).regions.every((r) => r.RegionState === 'AVAILABLE'));
    assert.throws(
      () => parseServerConfig({ ...base, regions: [UNAVAILABLE] }),
      /regions: the first region must be AVAILABLE/,
    );
    assert.throws(
      () =>
        parseServerConfig({ ...base, regions: [{ Region: 'r1', RegionName: 'One', RegionState: 'GONE' }] }),
      /regions\.0\.RegionState/,
    );
    assert.throws(
      () =>
        parseServerConfig({
          ...base,
          regions: [
            { Region: 'r1', RegionName: 'One' },
            { Region: 'r1', RegionName: 'Again' },
          ],
        }),
      /region ids must be unique/,
    );
  });
});
