// Commands through the official SDK against the real tatd: create and describe (every field, the
// defaults, filters, paging newest first), modify (only what is given changes), delete, preview of
// parameter substitution, unique names and the command quota. Each describe block works in its
// own region, so counts do not depend on the other blocks.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PUBLIC_COMMANDS } from '../../server/public/commands.js';
import type { TatClient } from '../../tat/node/client.js';
import { nextSecond } from '../../testkit/wait.js';
import { client, DEFAULT_ACCOUNT, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** DescribeCommands lists the public commands too unless filtered (public-commands.test.ts). */
const USER_ONLY = { Name: 'created-by', Values: ['USER'] };
const PUBLIC_NAMES = PUBLIC_COMMANDS.map((c) => c.name);

let tatd: Tatd;
const inRegion = (region: string): TatClient => client(tatd, { ...DEFAULT_ACCOUNT, region });

before(async () => {
  tatd = await startTatd({ builtInDefaults: true });
});

after(async () => {
  await tatd?.stop();
});

async function commandById(tat: TatClient, id: string) {
  const r = await tat.DescribeCommands({ CommandIds: [id] });
  assert.equal(r.TotalCount, 1);
  return r.CommandSet![0]!;
}

describe('CreateCommand and DescribeCommands', () => {
  let tat: TatClient;
  before(() => {
    tat = inRegion('ap-guangzhou');
  });

  test('every field given is stored and described back', async () => {
    const { CommandId, RequestId } = await tat.CreateCommand({
      CommandName: 'full',
      Content: b64('echo {{greeting}} {{tat-hidden:token}}'),
      Description: 'all the fields',
      CommandType: 'SHELL',
      WorkingDirectory: '/tmp',
      Timeout: 120,
      EnableParameter: true,
      DefaultParameters: '{"greeting":"hello"}',
      Tags: [
        { Key: 'env', Value: 'prod' },
        { Key: 'team', Value: 'web' },
      ],
      Username: 'nobody',
      OutputCOSBucketUrl: 'https://bucket-1250000000.cos.ap-beijing.myqcloud.com',
      OutputCOSKeyPrefix: 'logs/tat',
    });
    assert.match(CommandId!, /^cmd-[a-z0-9]{8}$/);
    assert.match(RequestId!, /^[0-9a-f-]{36}$/);
    const c = await commandById(tat, CommandId!);
    assert.deepEqual(
      { ...c, CreatedTime: undefined, UpdatedTime: undefined },
      {
        CommandId,
        CommandName: 'full',
        Description: 'all the fields',
        Content: b64('echo {{greeting}} {{tat-hidden:token}}'),
        CommandType: 'SHELL',
        WorkingDirectory: '/tmp',
        Timeout: 120,
        CreatedTime: undefined,
        UpdatedTime: undefined,
        EnableParameter: true,
        DefaultParameters: '{"greeting":"hello"}',
        DefaultParameterConfs: [],
        Scenes: [],
        FormattedDescription: '',
        CreatedBy: 'USER',
        Tags: [
          { Key: 'env', Value: 'prod' },
          { Key: 'team', Value: 'web' },
        ],
        Username: 'nobody',
        OutputCOSBucketUrl: 'https://bucket-1250000000.cos.ap-beijing.myqcloud.com',
        OutputCOSKeyPrefix: 'logs/tat',
      },
    );
    assert.match(c.CreatedTime!, API_TIME);
    assert.equal(c.UpdatedTime, c.CreatedTime);
  });

  test('omitted fields get the documented defaults, per command type', async () => {
    const shell = await tat.CreateCommand({ CommandName: 'minimal', Content: b64('true') });
    const c = await commandById(tat, shell.CommandId!);
    assert.equal(c.CommandType, 'SHELL');
    assert.equal(c.WorkingDirectory, '/root');
    assert.equal(c.Timeout, 60);
    assert.equal(c.Username, 'root');
    assert.equal(c.EnableParameter, false);
    assert.equal(c.DefaultParameters, '');
    assert.deepEqual(c.DefaultParameterConfs, []);
    assert.deepEqual(c.Tags, []);
    assert.equal(c.Description, '');
    assert.equal(c.OutputCOSBucketUrl, '');
    assert.equal(c.OutputCOSKeyPrefix, '');

    const ps = await tat.CreateCommand({
      CommandName: 'minimal-ps',
      Content: b64('dir'),
      CommandType: 'POWERSHELL',
    });
    const p = await commandById(tat, ps.CommandId!);
    assert.equal(p.WorkingDirectory, 'C:\\Program Files\\qcloud\\tat_agent\\workdir');
    assert.equal(p.Username, 'System');
  });

  test('DefaultParameterConfs are kept with their descriptions and also shown as DefaultParameters', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'confs',
      Content: b64('echo {{a}} {{b}}'),
      EnableParameter: true,
      DefaultParameterConfs: [
        { ParameterName: 'a', ParameterValue: '1', ParameterDescription: 'first' },
        { ParameterName: 'b', ParameterValue: '2' },
      ],
    });
    const c = await commandById(tat, CommandId!);
    assert.deepEqual(c.DefaultParameterConfs, [
      { ParameterName: 'a', ParameterValue: '1', ParameterDescription: 'first' },
      { ParameterName: 'b', ParameterValue: '2', ParameterDescription: '' },
    ]);
    assert.deepEqual(JSON.parse(c.DefaultParameters!), { a: '1', b: '2' });
  });

  test('names may hold CJK letters, digits, "_", "-" and "."', async () => {
    const { CommandId } = await tat.CreateCommand({ CommandName: '部署_v1.2-beta', Content: b64('true') });
    assert.equal((await commandById(tat, CommandId!)).CommandName, '部署_v1.2-beta');
  });
});

describe('DescribeCommands filters', () => {
  let tat: TatClient;
  const id: Record<string, string> = {};
  before(async () => {
    tat = inRegion('ap-beijing');
    const specs = [
      {
        CommandName: 'web-deploy',
        Tags: [
          { Key: 'env', Value: 'prod' },
          { Key: 'team', Value: 'web' },
        ],
      },
      { CommandName: 'db-backup', Tags: [{ Key: 'env', Value: 'staging' }] },
      { CommandName: 'win-patch', CommandType: 'POWERSHELL', Tags: [{ Key: 'team', Value: 'ops' }] },
      { CommandName: 'bat-clean', CommandType: 'BAT' },
    ];
    for (const s of specs)
      id[s.CommandName] = (await tat.CreateCommand({ ...s, Content: b64('true') })).CommandId!;
  });

  async function names(req: Parameters<TatClient['DescribeCommands']>[0]): Promise<string[]> {
    const r = await tat.DescribeCommands(req);
    assert.equal(r.TotalCount, r.CommandSet!.length);
    return r.CommandSet!.map((c) => c.CommandName!).sort();
  }
  const f = (Name: string, ...Values: string[]) => ({ Filters: [{ Name, Values }] });

  test('no filter lists every command of the account and region, and the public commands', async () => {
    assert.deepEqual(
      await names({}),
      ['bat-clean', 'db-backup', 'web-deploy', 'win-patch', ...PUBLIC_NAMES].sort(),
    );
  });

  test('command-id and CommandIds', async () => {
    assert.deepEqual(await names(f('command-id', id['web-deploy']!, id['win-patch']!)), [
      'web-deploy',
      'win-patch',
    ]);
    assert.deepEqual(await names({ CommandIds: [id['db-backup']!, 'cmd-zzzzzzzz'] }), ['db-backup']);
  });

  test('command-name matches whole names', async () => {
    assert.deepEqual(await names(f('command-name', 'db-backup')), ['db-backup']);
    assert.deepEqual(await names(f('command-name', 'db')), []);
  });

  test('command-type', async () => {
    assert.deepEqual(await names(f('command-type', 'POWERSHELL', 'BAT')), ['bat-clean', 'win-patch']);
    assert.deepEqual(
      await names(f('command-type', 'SHELL')),
      ['db-backup', 'web-deploy', ...PUBLIC_NAMES].sort(),
    );
  });

  test('created-by: these are all USER commands; TAT lists the public ones', async () => {
    assert.equal((await names(f('created-by', 'USER'))).length, 4);
    assert.deepEqual(await names(f('created-by', 'TAT')), [...PUBLIC_NAMES].sort());
  });

  test('tag-key, tag-value and tag:<key>', async () => {
    assert.deepEqual(await names(f('tag-key', 'team')), ['web-deploy', 'win-patch']);
    assert.deepEqual(await names(f('tag-value', 'staging', 'ops')), ['db-backup', 'win-patch']);
    assert.deepEqual(await names(f('tag:env', 'prod')), ['web-deploy']);
    assert.deepEqual(await names(f('tag:env', 'prod', 'staging')), ['db-backup', 'web-deploy']);
    assert.deepEqual(await names(f('tag:team', 'prod')), []);
    assert.deepEqual(await names(f('tag:nokey', 'prod')), []);
  });

  test('scene-id: user commands belong to no scene', async () => {
    assert.deepEqual(await names(f('scene-id', 'sc-aaaaaaaa')), []);
  });

  test('filters are AND-ed, the values of one filter OR-ed', async () => {
    const both = {
      Filters: [
        { Name: 'command-type', Values: ['SHELL', 'POWERSHELL'] },
        { Name: 'tag-key', Values: ['team'] },
      ],
    };
    assert.deepEqual(await names(both), ['web-deploy', 'win-patch']);
    const none = {
      Filters: [
        { Name: 'command-type', Values: ['BAT'] },
        { Name: 'tag-key', Values: ['team'] },
      ],
    };
    assert.deepEqual(await names(none), []);
  });
});

describe('DescribeCommands paging', () => {
  let tat: TatClient;
  const created: string[] = [];
  before(async () => {
    tat = inRegion('ap-chengdu');
    for (let i = 0; i < 7; i++)
      created.push(
        (await tat.CreateCommand({ CommandName: `page-${i}`, Content: b64(`echo ${i}`) })).CommandId!,
      );
  });

  test('newest first, Limit and Offset page through, TotalCount counts every match', async () => {
    const page = async (Offset: number, Limit: number) => {
      const r = await tat.DescribeCommands({ Filters: [USER_ONLY], Offset, Limit });
      assert.equal(r.TotalCount, 7);
      return r.CommandSet!.map((c) => c.CommandId);
    };
    const newestFirst = [...created].reverse();
    assert.deepEqual(await page(0, 3), newestFirst.slice(0, 3));
    assert.deepEqual(await page(3, 3), newestFirst.slice(3, 6));
    assert.deepEqual(await page(6, 3), newestFirst.slice(6));
    assert.deepEqual(await page(7, 3), []);
    assert.deepEqual(await page(100, 100), []);
  });

  test('the default page is 20 and Offset 0', async () => {
    const r = await tat.DescribeCommands({ Filters: [USER_ONLY] });
    assert.deepEqual(
      r.CommandSet!.map((c) => c.CommandId),
      [...created].reverse(),
    );
    for (let i = 0; i < 18; i++) await tat.CreateCommand({ CommandName: `more-${i}`, Content: b64('true') });
    const full = await tat.DescribeCommands({ Filters: [USER_ONLY] });
    assert.equal(full.TotalCount, 25);
    assert.equal(full.CommandSet!.length, 20);
    assert.equal(full.CommandSet![0]!.CommandName, 'more-17');
  });

  test('TotalCount of a filtered list counts the matches before paging', async () => {
    const r = await tat.DescribeCommands({
      Filters: [{ Name: 'command-name', Values: ['page-1', 'page-2', 'page-3'] }],
      Limit: 1,
      Offset: 1,
    });
    assert.equal(r.TotalCount, 3);
    assert.deepEqual(
      r.CommandSet!.map((c) => c.CommandName),
      ['page-2'],
    );
  });
});

describe('ModifyCommand', () => {
  let tat: TatClient;
  before(() => {
    tat = inRegion('ap-shanghai');
  });

  test('only the fields given change', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'to-modify',
      Content: b64('echo one'),
      Description: 'before',
      Timeout: 30,
      WorkingDirectory: '/srv',
      Username: 'deploy',
      Tags: [{ Key: 'k', Value: 'v' }],
      OutputCOSBucketUrl: 'https://b-1250000000.cos.ap-shanghai.myqcloud.com',
      OutputCOSKeyPrefix: 'a',
    });
    const before = await commandById(tat, CommandId!);

    await tat.ModifyCommand({ CommandId: CommandId!, Description: 'after' });
    const one = await commandById(tat, CommandId!);
    assert.deepEqual({ ...one, UpdatedTime: '' }, { ...before, Description: 'after', UpdatedTime: '' });
    assert.ok(one.UpdatedTime! >= before.UpdatedTime!);

    await tat.ModifyCommand({
      CommandId: CommandId!,
      CommandName: 'modified',
      Content: b64('echo two'),
      Timeout: 90,
      WorkingDirectory: '/opt',
      Username: 'app',
      OutputCOSBucketUrl: '',
      OutputCOSKeyPrefix: '',
    });
    const two = await commandById(tat, CommandId!);
    assert.deepEqual(
      { ...two, UpdatedTime: '' },
      {
        ...one,
        CommandName: 'modified',
        Content: b64('echo two'),
        Timeout: 90,
        WorkingDirectory: '/opt',
        Username: 'app',
        OutputCOSBucketUrl: '',
        OutputCOSKeyPrefix: '',
        UpdatedTime: '',
      },
    );
    assert.equal(two.CreatedTime, before.CreatedTime);
  });

  test('a command may keep its own name; another command may not take it', async () => {
    const a = await tat.CreateCommand({ CommandName: 'name-a', Content: b64('true') });
    const b = await tat.CreateCommand({ CommandName: 'name-b', Content: b64('true') });
    await tat.ModifyCommand({ CommandId: a.CommandId!, CommandName: 'name-a' });
    await expectTatError(
      tat.ModifyCommand({ CommandId: b.CommandId!, CommandName: 'name-a' }),
      'InvalidParameterValue.CommandNameDuplicated',
    );
    assert.equal((await commandById(tat, b.CommandId!)).CommandName, 'name-b');
  });

  test('DefaultParameters and DefaultParameterConfs replace the whole set of defaults', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'defaults',
      Content: b64('echo {{a}} {{b}} {{c}}'),
      EnableParameter: true,
      DefaultParameters: '{"a":"1","b":"2"}',
    });
    await tat.ModifyCommand({ CommandId: CommandId!, DefaultParameters: '{"c":"3"}' });
    let c = await commandById(tat, CommandId!);
    assert.deepEqual(JSON.parse(c.DefaultParameters!), { c: '3' });
    assert.deepEqual(c.DefaultParameterConfs, []);

    await tat.ModifyCommand({
      CommandId: CommandId!,
      DefaultParameterConfs: [{ ParameterName: 'x', ParameterValue: '9', ParameterDescription: 'ex' }],
    });
    c = await commandById(tat, CommandId!);
    assert.deepEqual(JSON.parse(c.DefaultParameters!), { x: '9' });
    assert.deepEqual(c.DefaultParameterConfs, [
      { ParameterName: 'x', ParameterValue: '9', ParameterDescription: 'ex' },
    ]);

    // The defaults in use are the new ones only.
    const p = await tat.PreviewReplacedCommandContent({ CommandId: CommandId! });
    assert.equal(unb64(p.ReplacedContent!), 'echo {{a}} {{b}} {{c}}');
  });

  test('EnableParameter cannot change; the same value is accepted', async () => {
    const { CommandId } = await tat.CreateCommand({ CommandName: 'fixed-enable', Content: b64('true') });
    const modify = (req: object) => tat.ModifyCommand({ CommandId: CommandId!, ...req } as never);
    await expectTatError(modify({ EnableParameter: true }), 'InvalidParameterValue');
    await modify({ EnableParameter: false, Description: 'same value' });
    const c = await commandById(tat, CommandId!);
    assert.equal(c.EnableParameter, false);
    assert.equal(c.Description, 'same value');
  });

  test('a failed modification changes nothing', async () => {
    const { CommandId } = await tat.CreateCommand({ CommandName: 'atomic', Content: b64('true') });
    const before = await commandById(tat, CommandId!);
    await expectTatError(
      tat.ModifyCommand({ CommandId: CommandId!, Description: 'new', Timeout: 0 }),
      'InvalidParameterValue.Range',
    );
    assert.deepEqual(await commandById(tat, CommandId!), before);
  });
});

describe('DeleteCommand and DeleteCommands', () => {
  let tat: TatClient;
  before(() => {
    tat = inRegion('ap-nanjing');
  });
  const create = async (name: string) =>
    (await tat.CreateCommand({ CommandName: name, Content: b64('true') })).CommandId!;

  test('DeleteCommand removes one command; it is then not found, and its name is free', async () => {
    const id = await create('delete-me');
    const keep = await create('keep-me');
    await tat.DeleteCommand({ CommandId: id });
    const r = await tat.DescribeCommands({ CommandIds: [id, keep] });
    assert.deepEqual(
      r.CommandSet!.map((c) => c.CommandId),
      [keep],
    );
    // The same DeleteCommand again: in the next second, else it is the same signature (a replay).
    await nextSecond();
    await expectTatError(tat.DeleteCommand({ CommandId: id }), 'ResourceNotFound.CommandNotFound');
    await expectTatError(
      tat.ModifyCommand({ CommandId: id, Description: 'x' }),
      'ResourceNotFound.CommandNotFound',
    );
    await create('delete-me');
  });

  test('DeleteCommands removes several; with an unknown id in the batch it removes none', async () => {
    const [a, b, c] = [await create('batch-a'), await create('batch-b'), await create('batch-c')];
    await expectTatError(
      tat.DeleteCommands({ CommandIds: [a, 'cmd-zzzzzzzz'] }),
      'ResourceNotFound.CommandNotFound',
    );
    assert.equal((await tat.DescribeCommands({ CommandIds: [a, b, c] })).TotalCount, 3);
    await tat.DeleteCommands({ CommandIds: [a, b, a] });
    const left = await tat.DescribeCommands({ CommandIds: [a, b, c] });
    assert.deepEqual(
      left.CommandSet!.map((x) => x.CommandId),
      [c],
    );
  });
});

describe('PreviewReplacedCommandContent', () => {
  let tat: TatClient;
  before(() => {
    tat = inRegion('ap-hongkong');
  });
  const preview = async (req: Parameters<TatClient['PreviewReplacedCommandContent']>[0]) =>
    unb64((await tat.PreviewReplacedCommandContent(req)).ReplacedContent!);

  test('the official example: placeholders without a value stay as written', async () => {
    assert.equal(
      await preview({ Content: b64('ls {{a}}\necho {{b}} {{c}}'), Parameters: '{"a":"123"}' }),
      'ls 123\necho {{b}} {{c}}',
    );
  });

  test("a saved command: the call's values over the command's defaults", async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'preview-defaults',
      Content: b64('echo {{a}} {{b}} {{c}} {{a}}'),
      EnableParameter: true,
      DefaultParameters: '{"a":"1","b":"2"}',
    });
    assert.equal(await preview({ CommandId: CommandId! }), 'echo 1 2 {{c}} 1');
    assert.equal(await preview({ CommandId: CommandId!, Parameters: '{"b":"x","c":"y"}' }), 'echo 1 x y 1');
  });

  test('DefaultParameterConfs are defaults too', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'preview-confs',
      Content: b64('echo {{a}}'),
      EnableParameter: true,
      DefaultParameterConfs: [{ ParameterName: 'a', ParameterValue: 'conf' }],
    });
    assert.equal(await preview({ CommandId: CommandId! }), 'echo conf');
  });

  test('hidden placeholders are replaced by the value of their bare name', async () => {
    assert.equal(
      await preview({
        Content: b64('login {{user}} {{tat-hidden:password}}'),
        Parameters: '{"user":"u","password":"p4ss"}',
      }),
      'login u p4ss',
    );
  });

  test('a command without EnableParameter previews as it is', async () => {
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'preview-plain',
      Content: b64('echo {{a}}'),
    });
    assert.equal(await preview({ CommandId: CommandId! }), 'echo {{a}}');
  });

  test('a preview stores nothing', async () => {
    const before = await tat.DescribeCommands({});
    await preview({ Content: b64('echo {{a}}'), Parameters: '{"a":"1"}' });
    const after = await tat.DescribeCommands({});
    assert.equal(after.TotalCount, before.TotalCount);
  });
});

describe('command names are unique per account and region', () => {
  test('a second command of the same name is refused, in another region it is not', async () => {
    const gz = inRegion('ap-singapore');
    await gz.CreateCommand({ CommandName: 'dup', Content: b64('true') });
    const msg = await expectTatError(
      gz.CreateCommand({ CommandName: 'dup', Content: b64('false') }),
      'InvalidParameterValue.CommandNameDuplicated',
    );
    assert.match(msg, /dup/);
    await expectTatError(
      gz.RunCommand({
        Content: b64('true'),
        InstanceIds: ['ins-aaaaaaaa'],
        SaveCommand: true,
        CommandName: 'dup',
      }),
      'InvalidParameterValue.CommandNameDuplicated',
    );
    // An unsaved RunCommand command needs no unique name: it gets as far as the instance check.
    await expectTatError(
      gz.RunCommand({ Content: b64('true'), InstanceIds: ['ins-aaaaaaaa'], CommandName: 'dup' }),
      'ResourceNotFound.InstanceNotFound',
    );
    // Not the body sent to ap-singapore: the region is not signed, so within the same second that
    // would be the same signature, refused as a replay.
    await inRegion('ap-seoul').CreateCommand({
      CommandName: 'dup',
      Content: b64('true'),
      Description: 'seoul',
    });
  });

  test('a saving RunCommand that fails saves nothing', async () => {
    const tat = inRegion('ap-singapore');
    await expectTatError(
      tat.RunCommand({
        Content: b64('true'),
        InstanceIds: ['ins-aaaaaaaa'],
        SaveCommand: true,
        CommandName: 'not-saved',
      }),
      'ResourceNotFound.InstanceNotFound',
    );
    const r = await tat.DescribeCommands({ Filters: [{ Name: 'command-name', Values: ['not-saved'] }] });
    assert.equal(r.TotalCount, 0);
    await tat.CreateCommand({ CommandName: 'not-saved', Content: b64('true') });
  });
});

describe('command quota', () => {
  let small: Tatd;
  let tat: TatClient;
  before(async () => {
    small = await startTatd({ config: { quotas: { command: 3 } } });
    tat = client(small, DEFAULT_ACCOUNT);
  });
  after(async () => {
    await small.stop();
  });

  test('CreateCommand and a saving RunCommand are refused once the quota is used; a delete frees one', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await tat.CreateCommand({ CommandName: `q${i}`, Content: b64('true') })).CommandId!);
    await expectTatError(
      tat.CreateCommand({ CommandName: 'q3', Content: b64('true') }),
      'ResourceUnavailable.UserHasNoQuotaCode',
    );
    await expectTatError(
      tat.RunCommand({
        Content: b64('true'),
        InstanceIds: ['ins-aaaaaaaa'],
        SaveCommand: true,
        CommandName: 'q3',
      }),
      'ResourceUnavailable.UserHasNoQuotaCode',
    );
    // Unsaved commands do not count.
    await expectTatError(
      tat.RunCommand({ Content: b64('true'), InstanceIds: ['ins-aaaaaaaa'] }),
      'ResourceNotFound.InstanceNotFound',
    );
    assert.equal((await tat.DescribeCommands({ Filters: [USER_ONLY] })).TotalCount, 3);
    await tat.DeleteCommand({ CommandId: ids[0]! });
    // The refused CreateCommand again, in the next second (the same second: a replay).
    await nextSecond();
    await tat.CreateCommand({ CommandName: 'q3', Content: b64('true') });
    assert.equal((await tat.DescribeCommands({ Filters: [USER_ONLY] })).TotalCount, 3);
  });
});
