// Form and query parameters (v1 signature, TC3 GET) into the JSON shape of an action
// (server/api/decode.ts, docs/tat-api-reference.md, "Requests"): unflattening, and coercion to the
// schema's types.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coerceToSchema, unflatten } from '../../server/api/decode.js';
import { TatError } from '../../tat/errors.js';
import { REQUESTS } from '../../tat/schemas/requests.js';

describe('unflatten', () => {
  test('lists as Name.N, structures as Parent.Child, lists of structures as Name.N.Child', () => {
    assert.deepEqual(
      unflatten({
        'InstanceIds.1': 'ins-2',
        'InstanceIds.0': 'ins-1',
        'Filters.0.Name': 'tag:env',
        'Filters.0.Values.0': 'prod',
        'Filters.0.Values.1': 'dev',
        'Filters.1.Name': 'command-type',
        'Filters.1.Values.0': 'SHELL',
        'ScheduleSettings.Policy': 'RECURRENCE',
        'ScheduleSettings.Recurrence': '0 0 1 * *',
        Limit: '10',
      }),
      {
        InstanceIds: ['ins-1', 'ins-2'],
        Filters: [
          { Name: 'tag:env', Values: ['prod', 'dev'] },
          { Name: 'command-type', Values: ['SHELL'] },
        ],
        ScheduleSettings: { Policy: 'RECURRENCE', Recurrence: '0 0 1 * *' },
        Limit: '10',
      },
    );
  });

  test('the v1 common parameters are not action parameters', () => {
    assert.deepEqual(
      unflatten({
        Action: 'DescribeCommands',
        Version: '2020-10-28',
        Region: 'ap-guangzhou',
        Timestamp: '1700000000',
        Nonce: '42',
        SecretId: 'AKID',
        SignatureMethod: 'HmacSHA256',
        Signature: 'x',
        Token: 't',
        Language: 'en-US',
        RequestClient: 'SDK',
        Limit: '5',
      }),
      { Limit: '5' },
    );
  });

  test('keys that would reach Object.prototype are dropped', () => {
    const out = unflatten({
      '__proto__.polluted': 'yes',
      'constructor.prototype.polluted': 'yes',
      'A.__proto__.x': '1',
      Limit: '1',
    });
    assert.deepEqual(out, { Limit: '1' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('list indexes must be numbers up to 10000 → else InvalidParameter', () => {
    for (const key of ['CommandIds.10001', 'CommandIds.99999999', 'CommandIds.x'])
      assert.throws(
        () => unflatten({ 'CommandIds.0': 'cmd-aaaaaaaa', [key]: 'cmd-bbbbbbbb' }),
        (e: unknown) => e instanceof TatError && e.code === 'InvalidParameter',
        key,
      );
  });

  test('a name given both as a value and as a structure → InvalidParameter', () => {
    assert.throws(
      () => unflatten({ Tags: 'x', 'Tags.0.Key': 'k' }),
      (e: unknown) => e instanceof TatError && e.code === 'InvalidParameter' && /Tags/.test(e.message),
    );
  });
});

describe('coerceToSchema', () => {
  test('strings become the numbers and booleans the schema wants; strings stay strings', () => {
    const coerced = coerceToSchema(REQUESTS.CreateCommand, {
      CommandName: '123',
      Content: 'ZWNobw==',
      Timeout: '42',
      EnableParameter: 'true',
      DefaultParameterConfs: [{ ParameterName: '7', ParameterValue: '8' }],
      Tags: [{ Key: 'n', Value: '10' }],
    });
    assert.deepEqual(coerced, {
      CommandName: '123',
      Content: 'ZWNobw==',
      Timeout: 42,
      EnableParameter: true,
      DefaultParameterConfs: [{ ParameterName: '7', ParameterValue: '8' }],
      Tags: [{ Key: 'n', Value: '10' }],
    });
    assert.equal(REQUESTS.CreateCommand.safeParse(coerced).success, true);
  });

  test('booleans: only "true" and "false"; numbers: only decimal text', () => {
    const c = (req: object) => coerceToSchema(REQUESTS.DescribeInvocationTasks, req);
    assert.deepEqual(c({ HideOutput: 'false', Limit: '-1', Offset: '0' }), {
      HideOutput: false,
      Limit: -1,
      Offset: 0,
    });
    assert.deepEqual(c({ HideOutput: 'yes', Limit: '1e3', Offset: ' 1' }), {
      HideOutput: 'yes',
      Limit: '1e3',
      Offset: ' 1',
    });
    assert.equal(REQUESTS.DescribeInvocationTasks.safeParse(c({ HideOutput: 'yes' })).success, false);
  });

  test('a lone value where a list is expected is a list of one', () => {
    assert.deepEqual(coerceToSchema(REQUESTS.DeleteCommands, { CommandIds: 'cmd-aaaaaaaa' }), {
      CommandIds: ['cmd-aaaaaaaa'],
    });
  });

  test('unflatten then coerce gives what the JSON style would have sent', () => {
    const flat = {
      'Filters.0.Name': 'command-name',
      'Filters.0.Values.0': '007',
      Limit: '20',
      Offset: '40',
    };
    const req = coerceToSchema(REQUESTS.DescribeCommands, unflatten(flat));
    assert.deepEqual(req, { Filters: [{ Name: 'command-name', Values: ['007'] }], Limit: 20, Offset: 40 });
    assert.equal(REQUESTS.DescribeCommands.safeParse(req).success, true);
  });

  test('what is not in the schema is left as it came', () => {
    assert.deepEqual(coerceToSchema(REQUESTS.DeleteCommand, { CommandId: 'cmd-aaaaaaaa', NewField: '1' }), {
      CommandId: 'cmd-aaaaaaaa',
      NewField: '1',
    });
  });
});
