// Every invalid request the TAT API spec names (docs/tat-api-reference.md, "Actions", "Custom
// parameters", "Limits") gets its error code from the real tatd through the official SDK, and every
// code answered is one the action documents (isDocumentedCode): clients switch on these codes.
// Run/Invoke cases use well-formed but unknown instance ids: they get past the parameter checks and
// then fail with InstanceNotFound, so no agent is needed. Limits at the boundary are accepted.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDocumentedCode, type ActionName } from '../../tat/error-codes.js';
import type { TatClient } from '../../tat/node/client.js';
import { client, DEFAULT_ACCOUNT, expectTatError, startTatd, type Tatd } from '../../testkit/tatd.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

let tatd: Tatd;
let tat: TatClient;
/** A command with EnableParameter=false. */
let plainId: string;
/** EnableParameter=true, script `echo {{a}} {{b}}`, default a=1 (b has no default). */
let paramId: string;
const TAKEN_NAME = 'validation-taken';

before(async () => {
  tatd = await startTatd();
  tat = client(tatd, DEFAULT_ACCOUNT);
  plainId = (await tat.CreateCommand({ CommandName: TAKEN_NAME, Content: b64('echo plain') })).CommandId!;
  paramId = (
    await tat.CreateCommand({
      CommandName: 'validation-params',
      Content: b64('echo {{a}} {{b}}'),
      EnableParameter: true,
      DefaultParameters: '{"a":"1"}',
    })
  ).CommandId!;
});

after(async () => {
  await tatd?.stop();
});

type AnyCall = (req: object) => Promise<unknown>;
/** Calls `action` with a request the SDK typings would refuse (wrong types, missing fields). */
function call(action: ActionName, req: object): Promise<unknown> {
  const method = (tat as unknown as Record<string, AnyCall>)[action]!;
  return method.call(tat, req);
}

type Case = [what: string, req: object | (() => object), code: string];

/** One test per case: the answer has `code`, and `code` is documented for `action`. */
function cases(action: ActionName, list: Case[]): void {
  describe(action, () => {
    for (const [what, req, code] of list)
      test(`${what} → ${code}`, async () => {
        assert.ok(isDocumentedCode(action, code), `${code} is not a documented code of ${action}`);
        await expectTatError(call(action, typeof req === 'function' ? req() : req), code);
      });
  });
}

const content = b64('echo hi');
const keys = (n: number) =>
  JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])));
const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(8, '0')}`);
const filter = (Name: string, ...Values: string[]) => ({ Filters: [{ Name, Values }] });
const sixValues = ['a', 'b', 'c', 'd', 'e', 'f'];
const elevenFilters = Array.from({ length: 11 }, () => ({ Name: 'command-type', Values: ['SHELL'] }));
const INSTANCE = ['ins-aaaaaaaa'];

/** Invalid custom-parameter JSON texts and their codes (docs/tat-api-reference.md, "Custom parameters"). */
const BAD_PARAMETERS: [string, string, string][] = [
  ['not JSON', '{a:1', 'InvalidParameterValue.ParameterInvalidJsonFormat'],
  ['a JSON array', '["a"]', 'InvalidParameterValue.ParameterInvalidJsonFormat'],
  ['a JSON string', '"a"', 'InvalidParameterValue.ParameterInvalidJsonFormat'],
  ['a key with a space', '{"a b":"1"}', 'InvalidParameterValue.ParameterKeyContainsInvalidChar'],
  ['a 65-character key', `{"${'k'.repeat(65)}":"1"}`, 'InvalidParameterValue.ParameterKeyLenExceeded'],
  ['21 keys', keys(21), 'InvalidParameterValue.ParameterNumberExceeded'],
  ['a number value', '{"a":1}', 'InvalidParameterValue.ParameterValueNotString'],
  ['a null value', '{"a":null}', 'InvalidParameterValue.ParameterValueNotString'],
  ['a key twice', '{"a":"1","a":"2"}', 'InvalidParameterValue.ParameterKeyDuplicated'],
];

const COS_URLS = ['http://bucket-1250000000.cos.ap-beijing.myqcloud.com', 'bucket-1250000000', 'https://'];
// "." folders too: the store refuses those keys, so such a prefix could only fail later.
const COS_PREFIXES = ['/abs', 'a//b', 'a/../b', '..', 'p'.repeat(61), '.', './a', 'a/./b', 'a/.'];
/** A value that fits Parameters but makes the substituted script larger than the Content limit. */
const FIFTY_KB = JSON.stringify({ a: 'x'.repeat(50_000), b: 'y' });
/** Parameters text longer than the Content limit. */
const SEVENTY_KB = JSON.stringify({ a: 'x'.repeat(70_000), b: 'y' });

cases('CreateCommand', [
  ['no CommandName', { Content: content }, 'MissingParameter'],
  ['no Content', { CommandName: 'x' }, 'MissingParameter'],
  ['Timeout as a string', { CommandName: 'x', Content: content, Timeout: '60' }, 'InvalidParameter'],
  ['Timeout not an integer', { CommandName: 'x', Content: content, Timeout: 1.5 }, 'InvalidParameter'],
  [
    'EnableParameter as a string',
    { CommandName: 'x', Content: content, EnableParameter: 'yes' },
    'InvalidParameter',
  ],
  [
    'Tags as an object',
    { CommandName: 'x', Content: content, Tags: { Key: 'k', Value: 'v' } },
    'InvalidParameter',
  ],
  ['a tag without Value', { CommandName: 'x', Content: content, Tags: [{ Key: 'k' }] }, 'MissingParameter'],
  ['an empty CommandName', { CommandName: '', Content: content }, 'InvalidParameterValue.InvalidCommandName'],
  [
    'a CommandName with a space',
    { CommandName: 'a b', Content: content },
    'InvalidParameterValue.InvalidCommandName',
  ],
  [
    'a CommandName with "/"',
    { CommandName: 'a/b', Content: content },
    'InvalidParameterValue.InvalidCommandName',
  ],
  [
    'a CommandName of 61 bytes',
    { CommandName: 'n'.repeat(61), Content: content },
    'InvalidParameterValue.TooLong',
  ],
  [
    'a CommandName of 21 CJK characters (63 bytes)',
    { CommandName: '命'.repeat(21), Content: content },
    'InvalidParameterValue.TooLong',
  ],
  [
    'a taken CommandName',
    { CommandName: TAKEN_NAME, Content: content },
    'InvalidParameterValue.CommandNameDuplicated',
  ],
  [
    'a Description of 121 characters',
    { CommandName: 'x', Content: content, Description: 'd'.repeat(121) },
    'InvalidParameterValue.TooLong',
  ],
  ['an empty Content', { CommandName: 'x', Content: '' }, 'InvalidParameterValue.CommandContentInvalid'],
  [
    'Content that is not Base64',
    { CommandName: 'x', Content: 'echo hi!' },
    'InvalidParameterValue.CommandContentInvalid',
  ],
  [
    'Content over 64 KB of Base64',
    { CommandName: 'x', Content: 'AAAA'.repeat(16385) },
    'InvalidParameterValue.CommandContentInvalid',
  ],
  [
    'CommandType PYTHON',
    { CommandName: 'x', Content: content, CommandType: 'PYTHON' },
    'InvalidParameterValue',
  ],
  ['Timeout 0', { CommandName: 'x', Content: content, Timeout: 0 }, 'InvalidParameterValue.Range'],
  ['Timeout 86401', { CommandName: 'x', Content: content, Timeout: 86401 }, 'InvalidParameterValue.Range'],
  ['Timeout -1', { CommandName: 'x', Content: content, Timeout: -1 }, 'InvalidParameterValue.Range'],
  [
    'a relative WorkingDirectory',
    { CommandName: 'x', Content: content, WorkingDirectory: 'tmp/x' },
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  [
    'an empty WorkingDirectory',
    { CommandName: 'x', Content: content, WorkingDirectory: '' },
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  [
    'a Linux WorkingDirectory for POWERSHELL',
    { CommandName: 'x', Content: content, CommandType: 'POWERSHELL', WorkingDirectory: '/root' },
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  [
    'a Username with a space',
    { CommandName: 'x', Content: content, Username: 'a b' },
    'InvalidParameterValue.InvalidUsername',
  ],
  [
    'an empty Username',
    { CommandName: 'x', Content: content, Username: '' },
    'InvalidParameterValue.InvalidUsername',
  ],
  [
    'a Username that reads as an option',
    { CommandName: 'x', Content: content, Username: '--service=files' },
    'InvalidParameterValue.InvalidUsername',
  ],
  [
    'DefaultParameters longer than the Content limit',
    { CommandName: 'x', Content: content, EnableParameter: true, DefaultParameters: SEVENTY_KB },
    'InvalidParameterValue.TooLong',
  ],
  [
    'DefaultParameterConfs longer than the Content limit',
    {
      CommandName: 'x',
      Content: content,
      EnableParameter: true,
      DefaultParameterConfs: [{ ParameterName: 'a', ParameterValue: 'x'.repeat(70_000) }],
    },
    'InvalidParameterValue.TooLong',
  ],
  ...COS_URLS.map((u): Case => [
    `OutputCOSBucketUrl ${u}`,
    { CommandName: 'x', Content: content, OutputCOSBucketUrl: u },
    'InvalidParameterValue.InvalidOutputCOSBucketUrl',
  ]),
  ...COS_PREFIXES.map((p): Case => [
    `OutputCOSKeyPrefix ${p.slice(0, 20)}`,
    { CommandName: 'x', Content: content, OutputCOSKeyPrefix: p },
    'InvalidParameterValue.InvalidOutputCOSKeyPrefix',
  ]),
  ['11 tags', { CommandName: 'x', Content: content, Tags: tags(11) }, 'InvalidParameterValue'],
  [
    'a tag key twice',
    {
      CommandName: 'x',
      Content: content,
      Tags: [
        { Key: 'k', Value: '1' },
        { Key: 'k', Value: '2' },
      ],
    },
    'InvalidParameterValue',
  ],
  [
    'an empty tag key',
    { CommandName: 'x', Content: content, Tags: [{ Key: '', Value: 'v' }] },
    'InvalidParameterValue',
  ],
  [
    'DefaultParameters without EnableParameter',
    { CommandName: 'x', Content: content, DefaultParameters: '{"a":"1"}' },
    'InvalidParameterValue.SupportParametersOnlyIfEnableParameter',
  ],
  [
    'DefaultParameterConfs with EnableParameter=false',
    {
      CommandName: 'x',
      Content: content,
      EnableParameter: false,
      DefaultParameterConfs: [{ ParameterName: 'a', ParameterValue: '1' }],
    },
    'InvalidParameterValue.SupportParametersOnlyIfEnableParameter',
  ],
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `DefaultParameters with ${what}`,
    { CommandName: 'x', Content: content, EnableParameter: true, DefaultParameters: text },
    code,
  ]),
  [
    'DefaultParameterConfs naming a parameter twice',
    {
      CommandName: 'x',
      Content: content,
      EnableParameter: true,
      DefaultParameterConfs: [
        { ParameterName: 'a', ParameterValue: '1' },
        { ParameterName: 'a', ParameterValue: '2' },
      ],
    },
    'InvalidParameterValue.ParameterKeyDuplicated',
  ],
  [
    'DefaultParameterConfs with a bad name',
    {
      CommandName: 'x',
      Content: content,
      EnableParameter: true,
      DefaultParameterConfs: [{ ParameterName: 'a.b', ParameterValue: '1' }],
    },
    'InvalidParameterValue.ParameterKeyContainsInvalidChar',
  ],
  [
    '21 DefaultParameterConfs',
    {
      CommandName: 'x',
      Content: content,
      EnableParameter: true,
      DefaultParameterConfs: Array.from({ length: 21 }, (_, i) => ({
        ParameterName: `p${i}`,
        ParameterValue: 'v',
      })),
    },
    'InvalidParameterValue.ParameterNumberExceeded',
  ],
  // Both forms at once: ConflictParameter is not documented for CreateCommand; its parent is.
  [
    'both DefaultParameters and DefaultParameterConfs',
    {
      CommandName: 'x',
      Content: content,
      EnableParameter: true,
      DefaultParameters: '{"a":"1"}',
      DefaultParameterConfs: [{ ParameterName: 'b', ParameterValue: '2' }],
    },
    'InvalidParameter',
  ],
]);

cases('ModifyCommand', [
  ['no CommandId', { Description: 'd' }, 'MissingParameter'],
  ['a malformed CommandId', { CommandId: 'cmd-ABC' }, 'InvalidParameterValue.InvalidCommandId'],
  ['an unknown CommandId', { CommandId: 'cmd-zzzzzzzz' }, 'ResourceNotFound.CommandNotFound'],
  ['Timeout as a string', () => ({ CommandId: plainId, Timeout: '5' }), 'InvalidParameter'],
  [
    'a CommandName with a space',
    () => ({ CommandId: plainId, CommandName: 'a b' }),
    'InvalidParameterValue.InvalidCommandName',
  ],
  [
    'a CommandName of 61 bytes',
    () => ({ CommandId: plainId, CommandName: 'n'.repeat(61) }),
    'InvalidParameterValue.TooLong',
  ],
  [
    'the name of another command',
    () => ({ CommandId: paramId, CommandName: TAKEN_NAME }),
    'InvalidParameterValue.CommandNameDuplicated',
  ],
  [
    'a Description of 121 characters',
    () => ({ CommandId: plainId, Description: 'd'.repeat(121) }),
    'InvalidParameterValue.TooLong',
  ],
  [
    'Content that is not Base64',
    () => ({ CommandId: plainId, Content: '%%%%' }),
    'InvalidParameterValue.CommandContentInvalid',
  ],
  ['CommandType PYTHON', () => ({ CommandId: plainId, CommandType: 'PYTHON' }), 'InvalidParameterValue'],
  ['Timeout 86401', () => ({ CommandId: plainId, Timeout: 86401 }), 'InvalidParameterValue.Range'],
  [
    'a relative WorkingDirectory',
    () => ({ CommandId: plainId, WorkingDirectory: 'x' }),
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  [
    'CommandType POWERSHELL with the Linux WorkingDirectory',
    () => ({ CommandId: plainId, CommandType: 'POWERSHELL' }),
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  // InvalidUsername is not documented for ModifyCommand: its parent answers.
  ['a Username with a space', () => ({ CommandId: plainId, Username: 'a b' }), 'InvalidParameterValue'],
  ...COS_URLS.map((u): Case => [
    `OutputCOSBucketUrl ${u}`,
    () => ({ CommandId: plainId, OutputCOSBucketUrl: u }),
    'InvalidParameterValue.InvalidOutputCOSBucketUrl',
  ]),
  ...COS_PREFIXES.map((p): Case => [
    `OutputCOSKeyPrefix ${p.slice(0, 20)}`,
    () => ({ CommandId: plainId, OutputCOSKeyPrefix: p }),
    'InvalidParameterValue.InvalidOutputCOSKeyPrefix',
  ]),
  [
    'DefaultParameters on a command without EnableParameter',
    () => ({ CommandId: plainId, DefaultParameters: '{"a":"2"}' }),
    'InvalidParameterValue.SupportParametersOnlyIfEnableParameter',
  ],
  [
    'DefaultParameterConfs on a command without EnableParameter',
    () => ({ CommandId: plainId, DefaultParameterConfs: [{ ParameterName: 'a', ParameterValue: '2' }] }),
    'InvalidParameterValue.SupportParametersOnlyIfEnableParameter',
  ],
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `DefaultParameters with ${what}`,
    () => ({ CommandId: paramId, DefaultParameters: text }),
    code,
  ]),
  [
    'EnableParameter turned on',
    () => ({ CommandId: plainId, EnableParameter: true }),
    'InvalidParameterValue',
  ],
  [
    'EnableParameter turned off',
    () => ({ CommandId: paramId, EnableParameter: false }),
    'InvalidParameterValue',
  ],
  [
    'Tags (ModifyCommand has none)',
    () => ({ CommandId: plainId, Tags: [{ Key: 'k', Value: 'v' }] }),
    'InvalidParameter',
  ],
]);

cases('DeleteCommand', [
  ['no CommandId', {}, 'MissingParameter'],
  ['a malformed CommandId', { CommandId: 'command-1' }, 'InvalidParameterValue.InvalidCommandId'],
  ['an unknown CommandId', { CommandId: 'cmd-zzzzzzzz' }, 'ResourceNotFound.CommandNotFound'],
]);

cases('DeleteCommands', [
  ['no CommandIds', {}, 'MissingParameter'],
  ['an empty CommandIds', { CommandIds: [] }, 'MissingParameter'],
  ['CommandIds as a string', { CommandIds: 'cmd-zzzzzzzz' }, 'InvalidParameter'],
  ['a malformed id', { CommandIds: ['cmd-zzzzzzzz', 'bad'] }, 'InvalidParameterValue.InvalidCommandId'],
  ['an unknown id', () => ({ CommandIds: [plainId, 'cmd-zzzzzzzz'] }), 'ResourceNotFound.CommandNotFound'],
  ['101 ids', { CommandIds: ids('cmd', 101) }, 'InvalidParameterValue'],
]);

cases('DescribeCommands', [
  [
    'CommandIds and Filters',
    { CommandIds: ['cmd-zzzzzzzz'], ...filter('command-type', 'SHELL') },
    'InvalidParameter.ConflictParameter',
  ],
  [
    'a malformed id in CommandIds',
    { CommandIds: ['cmd-zzzzzzzz', 'zzz'] },
    'InvalidParameterValue.InvalidCommandId',
  ],
  [
    'a malformed id in the command-id filter',
    filter('command-id', 'zzz'),
    'InvalidParameterValue.InvalidCommandId',
  ],
  ['an unknown filter', filter('name', 'x'), 'InvalidParameterValue.InvalidFilter'],
  ['the tag: filter without a key', filter('tag:', 'x'), 'InvalidParameterValue.InvalidFilter'],
  ['command-type PYTHON', filter('command-type', 'PYTHON'), 'InvalidParameterValue.InvalidFilter'],
  ['created-by ME', filter('created-by', 'ME'), 'InvalidParameterValue.InvalidFilter'],
  ['a filter without values', filter('command-name'), 'InvalidParameterValue.InvalidFilter'],
  ['a filter without Values', { Filters: [{ Name: 'command-name' }] }, 'MissingParameter'],
  // LimitExceeded is not documented for DescribeCommands: its parent answers.
  ['a filter with 6 values', filter('command-name', ...sixValues), 'InvalidParameterValue'],
  ['11 filters', { Filters: elevenFilters }, 'InvalidParameterValue'],
  ['101 CommandIds', { CommandIds: ids('cmd', 101) }, 'InvalidParameterValue'],
  ['Limit 101', { Limit: 101 }, 'InvalidParameterValue'],
  ['Offset -1', { Offset: -1 }, 'InvalidParameterValue'],
  ['Limit as a string', { Limit: '10' }, 'InvalidParameter'],
]);

cases('PreviewReplacedCommandContent', [
  ['neither CommandId nor Content', { Parameters: '{"a":"1"}' }, 'MissingParameter'],
  [
    'both CommandId and Content',
    () => ({ CommandId: paramId, Content: content }),
    'InvalidParameter.ConflictParameter',
  ],
  ['a malformed CommandId', { CommandId: 'cmd_1' }, 'InvalidParameterValue.InvalidCommandId'],
  ['an unknown CommandId', { CommandId: 'cmd-zzzzzzzz' }, 'ResourceNotFound.CommandNotFound'],
  ['Content that is not Base64', { Content: '#!' }, 'InvalidParameterValue.CommandContentInvalid'],
  [
    'Parameters for a command without EnableParameter',
    () => ({ CommandId: plainId, Parameters: '{"a":"1"}' }),
    'InvalidParameterValue.ParameterDisabled',
  ],
  [
    'Content with placeholders and no Parameters',
    { Content: b64('echo {{x}}') },
    'InvalidParameterValue.LackOfParameters',
  ],
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `Parameters with ${what}`,
    () => ({ CommandId: paramId, Parameters: text }),
    code,
  ]),
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `Parameters with ${what}, with Content`,
    { Content: content, Parameters: text },
    code,
  ]),
  [
    'Parameters whose substituted script exceeds the Content limit',
    { Content: b64('echo {{a}} {{b}}'), Parameters: FIFTY_KB },
    'InvalidParameterValue.CommandContentInvalid',
  ],
]);

const run = (extra: object) => ({ Content: content, InstanceIds: INSTANCE, ...extra });
cases('RunCommand', [
  ['no Content', { InstanceIds: INSTANCE }, 'MissingParameter'],
  ['no InstanceIds', { Content: content }, 'MissingParameter'],
  ['an empty InstanceIds', { Content: content, InstanceIds: [] }, 'MissingParameter'],
  ['InstanceIds as a string', { Content: content, InstanceIds: 'ins-aaaaaaaa' }, 'InvalidParameter'],
  ['SaveCommand as a string', run({ SaveCommand: 'true' }), 'InvalidParameter'],
  ['SaveCommand without CommandName', run({ SaveCommand: true }), 'MissingParameter'],
  [
    'SaveCommand with a taken CommandName',
    run({ SaveCommand: true, CommandName: TAKEN_NAME }),
    'InvalidParameterValue.CommandNameDuplicated',
  ],
  ['a CommandName with a space', run({ CommandName: 'a b' }), 'InvalidParameterValue.InvalidCommandName'],
  ['a CommandName of 61 bytes', run({ CommandName: 'n'.repeat(61) }), 'InvalidParameterValue.TooLong'],
  ['a Description of 121 characters', run({ Description: 'd'.repeat(121) }), 'InvalidParameterValue.TooLong'],
  ['Content that is not Base64', run({ Content: 'a' }), 'InvalidParameterValue.CommandContentInvalid'],
  ['CommandType PYTHON', run({ CommandType: 'PYTHON' }), 'InvalidParameterValue'],
  ['Timeout 0', run({ Timeout: 0 }), 'InvalidParameterValue.Range'],
  [
    'a relative WorkingDirectory',
    run({ WorkingDirectory: 'x' }),
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  ['a Username with a quote', run({ Username: 'a"b' }), 'InvalidParameterValue.InvalidUsername'],
  ['a Username that reads as an option', run({ Username: '-x' }), 'InvalidParameterValue.InvalidUsername'],
  [
    'Parameters whose substituted script exceeds the Content limit',
    run({ Content: b64('echo {{a}} {{b}}'), EnableParameter: true, Parameters: FIFTY_KB }),
    'InvalidParameterValue.CommandContentInvalid',
  ],
  [
    'Parameters longer than the Content limit',
    run({ Content: b64('echo {{a}} {{b}}'), EnableParameter: true, Parameters: SEVENTY_KB }),
    'InvalidParameterValue.TooLong',
  ],
  ...COS_URLS.map((u): Case => [
    `OutputCOSBucketUrl ${u}`,
    run({ OutputCOSBucketUrl: u }),
    'InvalidParameterValue.InvalidOutputCOSBucketUrl',
  ]),
  ...COS_PREFIXES.map((p): Case => [
    `OutputCOSKeyPrefix ${p.slice(0, 20)}`,
    run({ OutputCOSKeyPrefix: p }),
    'InvalidParameterValue.InvalidOutputCOSKeyPrefix',
  ]),
  ['11 tags', run({ SaveCommand: true, CommandName: 'run-tags', Tags: tags(11) }), 'InvalidParameterValue'],
  [
    'DefaultParameters without EnableParameter',
    run({ DefaultParameters: '{"a":"1"}' }),
    'InvalidParameterValue.SupportParametersOnlyIfEnableParameter',
  ],
  [
    'Parameters without EnableParameter',
    run({ Parameters: '{"a":"1"}' }),
    'InvalidParameterValue.ParameterDisabled',
  ],
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `Parameters with ${what}`,
    run({ EnableParameter: true, Parameters: text }),
    code,
  ]),
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `DefaultParameters with ${what}`,
    run({ EnableParameter: true, DefaultParameters: text }),
    code,
  ]),
  [
    'a placeholder with no value and no default',
    run({ Content: b64('echo {{a}} {{b}}'), EnableParameter: true, Parameters: '{"a":"1"}' }),
    'InvalidParameterValue.LackOfParameterInfo',
  ],
  [
    '201 instances',
    { Content: content, InstanceIds: ids('ins', 201) },
    'InvalidParameterValue.LimitExceeded',
  ],
  [
    'an instance twice',
    { Content: content, InstanceIds: ['ins-aaaaaaaa', 'ins-aaaaaaaa'] },
    'InvalidParameterValue',
  ],
  [
    'a malformed instance id',
    { Content: content, InstanceIds: ['ins-aaaaaaaa', 'i-123'] },
    'InvalidParameterValue.InvalidInstanceId',
  ],
  [
    'CVM and Lighthouse instances together',
    { Content: content, InstanceIds: ['ins-aaaaaaaa', 'lhins-aaaaaaaa'] },
    'InvalidParameterValue.InconsistentInstance',
  ],
  ['an unknown instance', { Content: content, InstanceIds: INSTANCE }, 'ResourceNotFound.InstanceNotFound'],
  [
    '200 unknown instances',
    { Content: content, InstanceIds: ids('ins', 200) },
    'ResourceNotFound.InstanceNotFound',
  ],
]);

const invoke = (extra: object) => () => ({ CommandId: plainId, InstanceIds: INSTANCE, ...extra });
const invokeParams = (extra: object) => () => ({ CommandId: paramId, InstanceIds: INSTANCE, ...extra });
cases('InvokeCommand', [
  ['no CommandId', { InstanceIds: INSTANCE }, 'MissingParameter'],
  ['no InstanceIds', () => ({ CommandId: plainId }), 'MissingParameter'],
  ['an empty InstanceIds', invoke({ InstanceIds: [] }), 'MissingParameter'],
  ['Timeout as a string', invoke({ Timeout: '10' }), 'InvalidParameter'],
  [
    'a malformed CommandId',
    { CommandId: 'cmd-', InstanceIds: INSTANCE },
    'InvalidParameterValue.InvalidCommandId',
  ],
  [
    'an unknown CommandId',
    { CommandId: 'cmd-zzzzzzzz', InstanceIds: INSTANCE },
    'ResourceNotFound.CommandNotFound',
  ],
  ['a Username with a space', invoke({ Username: 'a b' }), 'InvalidParameter.InvalidUsername'],
  [
    'a Username that reads as an option',
    invoke({ Username: '--service=files' }),
    'InvalidParameter.InvalidUsername',
  ],
  // CommandContentInvalid and TooLong are not documented for InvokeCommand: their parent answers.
  [
    'Parameters whose substituted script exceeds the Content limit',
    invokeParams({ Parameters: FIFTY_KB }),
    'InvalidParameterValue',
  ],
  [
    'Parameters longer than the Content limit',
    invokeParams({ Parameters: SEVENTY_KB }),
    'InvalidParameterValue',
  ],
  [
    'a relative WorkingDirectory',
    invoke({ WorkingDirectory: 'x' }),
    'InvalidParameterValue.InvalidWorkingDirectory',
  ],
  // Range is not documented for InvokeCommand: its parent answers.
  ['Timeout 0', invoke({ Timeout: 0 }), 'InvalidParameterValue'],
  ['Timeout 86401', invoke({ Timeout: 86401 }), 'InvalidParameterValue'],
  ...COS_URLS.map((u): Case => [
    `OutputCOSBucketUrl ${u}`,
    invoke({ OutputCOSBucketUrl: u }),
    'InvalidParameterValue.InvalidOutputCOSBucketUrl',
  ]),
  ...COS_PREFIXES.map((p): Case => [
    `OutputCOSKeyPrefix ${p.slice(0, 20)}`,
    invoke({ OutputCOSKeyPrefix: p }),
    'InvalidParameterValue.InvalidOutputCOSKeyPrefix',
  ]),
  [
    'Parameters for a command without EnableParameter',
    invoke({ Parameters: '{"a":"1"}' }),
    'InvalidParameterValue.ParameterDisabled',
  ],
  ...BAD_PARAMETERS.map(([what, text, code]): Case => [
    `Parameters with ${what}`,
    invokeParams({ Parameters: text }),
    code,
  ]),
  [
    'a placeholder with no value and no default',
    invokeParams({ Parameters: '{"a":"2"}' }),
    'InvalidParameterValue.LackOfParameterInfo',
  ],
  [
    'no Parameters, and a placeholder without default',
    invokeParams({}),
    'InvalidParameterValue.LackOfParameterInfo',
  ],
  ['201 instances', invoke({ InstanceIds: ids('ins', 201) }), 'InvalidParameterValue.LimitExceeded'],
  [
    'a malformed instance id',
    invoke({ InstanceIds: ['ins-AAAAAAAA'] }),
    'InvalidParameterValue.InvalidInstanceId',
  ],
  [
    'CVM and Lighthouse instances together',
    invoke({ InstanceIds: ['lhins-aaaaaaaa', 'ins-aaaaaaaa'] }),
    'InvalidParameterValue.InconsistentInstance',
  ],
  ['an unknown instance', invoke({}), 'ResourceNotFound.InstanceNotFound'],
  [
    'all parameters set, an unknown instance',
    invokeParams({ Parameters: '{"b":"2"}' }),
    'ResourceNotFound.InstanceNotFound',
  ],
]);

cases('CancelInvocation', [
  ['no InvocationId', {}, 'MissingParameter'],
  [
    'InstanceIds as a string',
    { InvocationId: 'inv-zzzzzzzz', InstanceIds: 'ins-aaaaaaaa' },
    'InvalidParameter',
  ],
  ['a malformed InvocationId', { InvocationId: 'invocation-1' }, 'InvalidParameterValue.InvalidInvocationId'],
  ['an unknown InvocationId', { InvocationId: 'inv-zzzzzzzz' }, 'ResourceNotFound.InvocationNotFound'],
  ['an empty InstanceIds', { InvocationId: 'inv-zzzzzzzz', InstanceIds: [] }, 'MissingParameter'],
  [
    '101 instances',
    { InvocationId: 'inv-zzzzzzzz', InstanceIds: ids('ins', 101) },
    'InvalidParameterValue.LimitExceeded',
  ],
  [
    'a malformed instance id',
    { InvocationId: 'inv-zzzzzzzz', InstanceIds: ['i-1'] },
    'InvalidParameterValue.InvalidInstanceId',
  ],
]);

cases('DescribeInvocations', [
  [
    'InvocationIds and Filters',
    { InvocationIds: ['inv-zzzzzzzz'], ...filter('command-created-by', 'USER') },
    'InvalidParameter.ConflictParameter',
  ],
  [
    'a malformed id in InvocationIds',
    { InvocationIds: ['invt-zzzzzzzz'] },
    'InvalidParameterValue.InvalidInvocationId',
  ],
  [
    'a malformed id in the invocation-id filter',
    filter('invocation-id', 'inv-'),
    'InvalidParameterValue.InvalidInvocationId',
  ],
  [
    'a malformed id in the command-id filter',
    filter('command-id', 'inv-zzzzzzzz'),
    'InvalidParameterValue.InvalidCommandId',
  ],
  ['an unknown filter', filter('instance-id', 'ins-aaaaaaaa'), 'InvalidParameterValue.InvalidFilter'],
  ['command-created-by ME', filter('command-created-by', 'ME'), 'InvalidParameterValue.InvalidFilter'],
  ['instance-kind VM', filter('instance-kind', 'VM'), 'InvalidParameterValue.InvalidFilter'],
  ['a filter with 6 values', filter('command-created-by', ...sixValues), 'LimitExceeded.FilterValueExceeded'],
  [
    '11 filters',
    { Filters: Array.from({ length: 11 }, () => ({ Name: 'instance-kind', Values: ['CVM'] })) },
    'InvalidParameterValue.LimitExceeded',
  ],
  ['101 InvocationIds', { InvocationIds: ids('inv', 101) }, 'InvalidParameterValue.LimitExceeded'],
  ['Limit 101', { Limit: 101 }, 'InvalidParameterValue.LimitExceeded'],
  ['Filters as an object', { Filters: { Name: 'instance-kind', Values: ['CVM'] } }, 'InvalidParameter'],
]);

cases('DescribeInvocationTasks', [
  [
    'InvocationTaskIds and Filters',
    { InvocationTaskIds: ['invt-zzzzzzzz'], ...filter('instance-id', 'ins-aaaaaaaa') },
    'InvalidParameter.ConflictParameter',
  ],
  [
    'a malformed id in InvocationTaskIds',
    { InvocationTaskIds: ['inv-zzzzzzzz'] },
    'InvalidParameterValue.InvalidInvocationTaskId',
  ],
  [
    'a malformed id in the invocation-task-id filter',
    filter('invocation-task-id', 'x'),
    'InvalidParameterValue.InvalidInvocationTaskId',
  ],
  [
    'a malformed id in the invocation-id filter',
    filter('invocation-id', 'invt-zzzzzzzz'),
    'InvalidParameterValue.InvalidInvocationId',
  ],
  [
    'a malformed id in the instance-id filter',
    filter('instance-id', 'host-1'),
    'InvalidParameterValue.InvalidInstanceId',
  ],
  [
    'a malformed id in the command-id filter',
    filter('command-id', 'cmd'),
    'InvalidParameterValue.InvalidCommandId',
  ],
  ['an unknown filter', filter('task-status', 'SUCCESS'), 'InvalidParameterValue.InvalidFilter'],
  // LimitExceeded is not documented for DescribeInvocationTasks: its parent answers.
  ['a filter with 6 values', filter('instance-id', ...ids('ins', 6)), 'InvalidParameterValue'],
  ['101 InvocationTaskIds', { InvocationTaskIds: ids('invt', 101) }, 'InvalidParameterValue'],
  ['Limit 101', { Limit: 101 }, 'InvalidParameterValue'],
  ['HideOutput as a string', { HideOutput: 'no' }, 'InvalidParameter'],
]);

cases('DescribeAutomationAgentStatus', [
  [
    'InstanceIds and Filters',
    { InstanceIds: INSTANCE, ...filter('agent-status', 'Online') },
    'InvalidParameter.ConflictParameter',
  ],
  [
    'a malformed id in InstanceIds',
    { InstanceIds: ['ins-aaaaaaaa', 'ins_1'] },
    'InvalidParameterValue.InvalidInstanceId',
  ],
  [
    'a malformed id in the instance-id filter',
    filter('instance-id', 'cmd-aaaaaaaa'),
    'InvalidParameterValue.InvalidInstanceId',
  ],
  [
    'agent-status online (lowercase)',
    filter('agent-status', 'online'),
    'InvalidParameterValue.InvalidFilter',
  ],
  ['environment MacOS', filter('environment', 'MacOS'), 'InvalidParameterValue.InvalidFilter'],
  ['an unknown filter', filter('instance-name', 'x'), 'InvalidParameterValue.InvalidFilter'],
  ['a filter with 6 values', filter('instance-id', ...ids('ins', 6)), 'InvalidParameterValue.LimitExceeded'],
  ['101 InstanceIds', { InstanceIds: ids('ins', 101) }, 'InvalidParameterValue.LimitExceeded'],
  ['Limit 101', { Limit: 101 }, 'InvalidParameterValue.LimitExceeded'],
]);

describe('limits at the boundary are accepted', () => {
  test('CreateCommand: 60-byte names, 120-character descriptions, 64 KB content, Timeout 1 and 86400, 10 tags', async () => {
    const made = await Promise.all([
      tat.CreateCommand({ CommandName: 'n'.repeat(60), Content: 'AAAA'.repeat(16384), Timeout: 1 }),
      tat.CreateCommand({ CommandName: '命'.repeat(20), Content: content, Timeout: 86400 }),
      tat.CreateCommand({
        CommandName: 'a_b-c.1',
        Content: content,
        Description: 'd'.repeat(120),
        Tags: tags(10),
      }),
    ]);
    const r = await tat.DescribeCommands({ CommandIds: made.map((m) => m.CommandId!) });
    assert.equal(r.TotalCount, 3);
    const byName = new Map(r.CommandSet!.map((c) => [c.CommandName, c]));
    assert.equal(byName.get('n'.repeat(60))!.Timeout, 1);
    assert.equal(byName.get('命'.repeat(20))!.Timeout, 86400);
    assert.equal(byName.get('a_b-c.1')!.Tags!.length, 10);
  });

  test('custom parameters: 20 keys, 64-character names of letters, digits, "-" and "_"', async () => {
    const long = 'K-_9'.repeat(16);
    const { CommandId } = await tat.CreateCommand({
      CommandName: 'twenty-params',
      Content: b64(`echo {{${long}}}`),
      EnableParameter: true,
      DefaultParameters: keys(20),
    });
    const r = await tat.PreviewReplacedCommandContent({
      CommandId: CommandId!,
      Parameters: JSON.stringify({ [long]: 'ok' }),
    });
    assert.equal(Buffer.from(r.ReplacedContent!, 'base64').toString('utf8'), 'echo ok');
  });

  test('RunCommand: 200 instances pass the count check (and then are unknown)', async () => {
    const msg = await expectTatError(
      // Not the body of the table's case above (the same within one second is a replay).
      tat.RunCommand({ Content: content, InstanceIds: ids('ins', 200), Description: 'count check' }),
      'ResourceNotFound.InstanceNotFound',
    );
    assert.match(msg, /ins-00000000/);
  });

  test('Describe actions: 100 ids, 10 filters of 5 values, Limit 100', async () => {
    const r = await tat.DescribeCommands({ CommandIds: ids('cmd', 100), Limit: 100 });
    assert.equal(r.TotalCount, 0);
    const f = Array.from({ length: 10 }, () => ({
      Name: 'command-type',
      Values: ['SHELL', 'BAT', 'POWERSHELL', 'SHELL', 'BAT'],
    }));
    const all = await tat.DescribeCommands({ Filters: f, Limit: 100 });
    assert.ok(all.TotalCount! >= 2);
    const inv = await tat.DescribeInvocations({ InvocationIds: ids('inv', 100), Limit: 100 });
    assert.deepEqual([inv.TotalCount, inv.InvocationSet], [0, []]);
    const tasks = await tat.DescribeInvocationTasks({ InvocationTaskIds: ids('invt', 100), Limit: 100 });
    assert.deepEqual([tasks.TotalCount, tasks.InvocationTaskSet], [0, []]);
    const agents = await tat.DescribeAutomationAgentStatus({ InstanceIds: ids('ins', 100), Limit: 100 });
    assert.deepEqual([agents.TotalCount, agents.AutomationAgentSet], [0, []]);
  });
});
