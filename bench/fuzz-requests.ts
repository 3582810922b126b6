// The requests of the fuzz run (bench/fuzz-run.ts), drawn from a seeded generator so that a run
// can be repeated: six kinds (KINDS), each hostile in its own way; see fuzz-run.ts for the list.

import { createHmac, randomBytes } from 'node:crypto';
import { ACTION_ERROR_CODES } from '../tat/error-codes.js';
import { tc3Authorization, v1Signature, v1StringToSign } from '../tat/node/signing.js';

export const ACCOUNT = { secretId: 'AKIDfuzz', secretKey: 'fuzz-secret', appId: '1990000001' };
export const BUCKET = 'fuzz-bucket';
export const KINDS = ['api-unsigned', 'api-tc3', 'api-v1', 'agent-http', 'agent-ws', 'cos'] as const;
export type Kind = (typeof KINDS)[number];

// ---- a seeded generator ----

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(l: readonly T[]): T => l[int(l.length)]!;
  return { next, int, pick };
}
export type Rng = ReturnType<typeof rng>;

const ACTIONS = Object.keys(ACTION_ERROR_CODES);
const AGENT_ACTIONS = [
  'DescribeTasks',
  'ReportTaskStart',
  'UploadTaskLog',
  'ReportTaskFinish',
  'CheckUpdate',
  'ReportAgentLog',
  'GetCosCredential',
  'RegisterInstance',
  'ValidateInstance',
];
const FIELDS = [
  'CommandId',
  'CommandIds',
  'CommandName',
  'Content',
  'InstanceIds',
  'InvocationId',
  'InvocationIds',
  'InvocationTaskIds',
  'Parameters',
  'DefaultParameters',
  'DefaultParameterConfs',
  'Filters',
  'Limit',
  'Offset',
  'Timeout',
  'Username',
  'WorkingDirectory',
  'OutputCOSBucketUrl',
  'OutputCOSKeyPrefix',
  'EnableParameter',
  'Tags',
  'RegisterCodeIds',
  'InstanceId',
  'HideOutput',
  'SaveCommand',
  'CommandType',
  '__proto__',
  'constructor',
  'Index',
  'Output',
  'Dropped',
  'InvocationTaskId',
  'Result',
  'ExitCode',
  'TimeStamp',
  'LogInfo',
  'PublicKey',
  'ActiveCode',
  'ActiveValue',
  'MachineId',
];

/** A hostile JSON value: wrong types, extremes, odd strings, nesting. */
function value(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 9 : 12)) {
    case 0:
      return null;
    case 1:
      return r.pick([0, -1, 1.5, 2 ** 31, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER, 4294967296]);
    case 2:
      return r.pick([true, false]);
    case 3:
      return r.pick([
        '',
        ' ',
        '\u0000',
        '../../etc/passwd',
        '{{a}}',
        '{{tat-hidden:x}}',
        '%00',
        'ﾟ∀ﾟ',
        '\uD800',
      ]);
    case 4:
      // Long strings at the top only: bodies stay small enough to be many.
      return 'x'.repeat(r.pick(depth === 0 ? [1, 61, 129, 257, 513, 4097, 70_000] : [1, 61, 257]));
    case 5:
      return r.pick([
        'cmd-aaaaaaaa',
        'inv-zzzzzzzz',
        'invt-00000000',
        'ins-12345678',
        'rins-abcdefgh',
        'lhins-x',
      ]);
    case 6:
      return Buffer.from(randomBytes(r.int(64))).toString('base64');
    case 7:
      return JSON.stringify({
        a: 'x'.repeat(r.pick(depth === 0 ? [1, 50_000] : [1, 100])),
        b: r.pick(['1', 2]),
      });
    case 8:
      return r.pick([
        '--service=files',
        '-x',
        'root',
        '0',
        'a b',
        'https://127.0.0.1/cos/fuzz-bucket',
        './..',
      ]);
    case 9:
      // Long lists hold ids; short ones anything.
      return r.int(3) === 0
        ? Array.from({ length: r.pick([101, 201, 10_001]) }, (_, i) => `ins-${String(i).padStart(8, '0')}`)
        : Array.from({ length: r.pick([0, 1, 5]) }, () => value(r, depth + 1));
    case 10:
      return Object.fromEntries(
        Array.from({ length: r.int(5) }, () => [r.pick(FIELDS), value(r, depth + 1)]),
      );
    default:
      return [{ Name: r.pick(['command-id', 'tag:', 'x', 'instance-id']), Values: value(r, depth + 1) }];
  }
}

const b64 = (t: string) => Buffer.from(t).toString('base64');
/** Parameters that pass an action's checks, for the fuzz to spoil one or two of them. */
const VALID: Record<string, () => Record<string, unknown>> = {
  CreateCommand: () => ({
    CommandName: `fuzz-${randomBytes(4).toString('hex')}`,
    Content: b64('echo {{a}}'),
    EnableParameter: true,
    DefaultParameters: '{"a":"1"}',
  }),
  RunCommand: () => ({
    Content: b64('echo fuzz'),
    InstanceIds: ['ins-aaaaaaaa'],
    Description: randomBytes(4).toString('hex'),
  }),
  InvokeCommand: () => ({ CommandId: 'cmd-aaaaaaaa', InstanceIds: ['ins-aaaaaaaa'] }),
  ModifyCommand: () => ({ CommandId: 'cmd-aaaaaaaa', Description: randomBytes(4).toString('hex') }),
  DeleteCommand: () => ({ CommandId: 'cmd-aaaaaaaa' }),
  DeleteCommands: () => ({ CommandIds: ['cmd-aaaaaaaa'] }),
  PreviewReplacedCommandContent: () => ({ Content: b64('echo {{a}}'), Parameters: '{"a":"x"}' }),
  CancelInvocation: () => ({ InvocationId: 'inv-aaaaaaaa' }),
  DescribeInvocationTasks: () => ({ HideOutput: false, Limit: 100 }),
  DescribeInvocations: () => ({ Filters: [{ Name: 'command-id', Values: ['cmd-aaaaaaaa'] }] }),
  CreateRegisterCode: () => ({ Description: randomBytes(4).toString('hex'), RegisterLimit: 2 }),
  ModifyRegisterInstance: () => ({ InstanceId: 'rins-aaaaaaaa', InstanceName: 'x' }),
  DeleteRegisterInstance: () => ({ InstanceId: 'rins-aaaaaaaa' }),
  DisableRegisterCodes: () => ({ RegisterCodeIds: ['00000000-0000-4000-8000-000000000000'] }),
  DescribeAutomationAgentStatus: () => ({ Filters: [{ Name: 'agent-status', Values: ['Online'] }] }),
};

/** Valid parameters of `action` with one or two of them replaced by hostile values. */
function spoiled(r: Rng, action: string): Record<string, unknown> {
  const base = VALID[action]?.() ?? {};
  const keys = Object.keys(base);
  for (let i = 0; i < 1 + r.int(2); i++)
    base[keys.length > 0 && r.int(3) > 0 ? r.pick(keys) : r.pick(FIELDS)] = value(r);
  return base;
}

function params(r: Rng): Record<string, unknown> {
  return Object.fromEntries(Array.from({ length: r.int(6) }, () => [r.pick(FIELDS), value(r)]));
}

function deepNesting(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

// ---- requests ----

export interface Req {
  kind: Kind;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A WebSocket upgrade (answered with a status, not an envelope). */
  upgrade?: boolean;
  label: string;
}

export function signedTc3(
  host: string,
  action: string,
  body: string,
  o: { region?: string } = {},
): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'x-tc-action': action,
    'x-tc-version': '2020-10-28',
    'x-tc-region': o.region ?? 'ap-guangzhou',
    'x-tc-timestamp': String(timestamp),
    authorization: tc3Authorization(ACCOUNT.secretId, {
      secretKey: ACCOUNT.secretKey,
      service: 'tat',
      host,
      timestamp,
      method: 'POST',
      query: '',
      contentType: 'application/json',
      payload: Buffer.from(body),
    }),
  };
}

function apiUnsigned(r: Rng, host: string): Req {
  const body = r.pick([
    '',
    '{',
    'null',
    '[]',
    '"x"',
    deepNesting(r.pick([10, 1000, 100_000])),
    JSON.stringify(params(r)),
    'a'.repeat(r.pick([10, 2_000_000])),
  ]);
  const timestamp = String(Math.floor(Date.now() / 1000) + r.pick([0, -3600, 3600]));
  const auth = r.pick([
    undefined,
    '',
    'TC3-HMAC-SHA256',
    `TC3-HMAC-SHA256 Credential=${ACCOUNT.secretId}/2020-01-01/tat/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`,
    `TC3-HMAC-SHA256 Credential=AKIDnobody/2020-01-01/tat/tc3_request, SignedHeaders=content-type;host, Signature=${'a'.repeat(64)}`,
    'Basic dXNlcjpwYXNz',
    `TC3-HMAC-SHA256 Credential=${'x'.repeat(5000)}`,
  ]);
  const method = r.pick(['POST', 'POST', 'GET', 'PUT', 'DELETE', 'OPTIONS']);
  const query = r.pick([
    '',
    '?Action=DescribeCommands',
    '?Signature=x&SecretId=AKIDfuzz&Nonce=1&Timestamp=1',
    `?${'a.'.repeat(500)}=1`,
  ]);
  const headers: Record<string, string> = {
    'content-type': r.pick([
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]),
    'x-tc-action': r.pick(['DescribeCommands', 'RunCommand', '', 'Nope', '__proto__']),
    'x-tc-version': r.pick(['2020-10-28', '2017-03-12', '']),
    'x-tc-region': r.pick(['ap-guangzhou', 'mars-1', '']),
    'x-tc-timestamp': timestamp,
    ...(auth !== undefined ? { authorization: auth } : {}),
  };
  void host;
  return {
    kind: 'api-unsigned',
    method,
    path: `/${query}`,
    headers,
    body: method === 'GET' ? undefined : Buffer.from(body),
    label: `${method} ${headers['x-tc-action']}`,
  };
}

function apiTc3(r: Rng, host: string): Req {
  const action = r.pick([...ACTIONS, ...ACTIONS, 'DescribeNothing']);
  const body = JSON.stringify(
    r.pick([() => value(r), () => params(r), () => spoiled(r, action), () => spoiled(r, action)])(),
  );
  return {
    kind: 'api-tc3',
    method: 'POST',
    path: '/',
    headers: signedTc3(host, action, body, {
      region: r.pick(['ap-guangzhou', 'ap-guangzhou', 'ap-shanghai', '']),
    }),
    body: Buffer.from(body),
    label: action,
  };
}

function apiV1(r: Rng, host: string): Req {
  const flat: Record<string, string> = {
    Action: r.pick(ACTIONS),
    Version: '2020-10-28',
    Region: 'ap-guangzhou',
    Timestamp: String(Math.floor(Date.now() / 1000)),
    Nonce: String(r.int(1e9)),
    SecretId: ACCOUNT.secretId,
    SignatureMethod: r.pick(['HmacSHA1', 'HmacSHA256']),
  };
  for (let i = 0; i < r.int(8); i++) {
    const key = r.pick([
      `${r.pick(FIELDS)}`,
      `${r.pick(FIELDS)}.${r.int(3)}`,
      `Filters.${r.int(3)}.Values.${r.pick([0, 1, 9999, 10_001])}`,
      `${r.pick(FIELDS)}.__proto__.polluted`,
      'CommandIds.30000000',
      'a..b',
      `Tags.0.${r.pick(['Key', 'Value'])}`,
    ]);
    flat[key] = String(value(r));
  }
  flat.Signature = v1Signature(
    ACCOUNT.secretKey,
    flat.SignatureMethod as 'HmacSHA1' | 'HmacSHA256',
    v1StringToSign('POST', host, '/', flat),
  );
  return {
    kind: 'api-v1',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams(flat).toString()),
    label: flat.Action!,
  };
}

function agentHttp(r: Rng): Req {
  const action = r.pick([...AGENT_ACTIONS, 'Nope', '']);
  const fields = params(r);
  if (action === 'UploadTaskLog' && r.int(2) === 0)
    Object.assign(fields, {
      InvocationTaskId: r.pick(['invt-00000000', 'x']),
      Index: r.pick([0, 4294967295, -1, 1.5]),
      Output: r.pick(['!!', 'QUJD'.repeat(r.pick([1, 10_000])), '']),
      Dropped: r.pick([0, 1e300, -5]),
    });
  if (action === 'RegisterInstance' && r.int(2) === 0)
    Object.assign(fields, {
      MachineId: 'm'.repeat(r.pick([1, 129])),
      ActiveCode: r.pick(['00000000-0000-4000-8000-000000000000', 'x']),
      ActiveValue: 'v',
      PublicKey: r.pick(['-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----', 'x']),
    });
  const body = r.pick([
    JSON.stringify({ Action: action, ...fields }),
    JSON.stringify({ Action: action, ...fields }),
    '{"Action":',
    'null',
    JSON.stringify([action]),
    deepNesting(r.pick([100, 100_000])),
  ]);
  const machine = r.pick(['fuzz-machine', 'fuzz-machine-2', '', 'm'.repeat(200), 'rins-aaaaaaaa']);
  const signed: Record<string, string> =
    r.int(3) === 0
      ? {
          InstanceId: r.pick(['rins-aaaaaaaa', 'ins-aaaaaaaa', 'x']),
          RandomKey: r.pick(['a'.repeat(32), '!', '']),
          Timestamp: r.pick([String(Math.floor(Date.now() / 1000)), '1', 'x']),
          Signature: r.pick([randomBytes(256).toString('base64'), '', '%%%']),
        }
      : {};
  return {
    kind: 'agent-http',
    method: 'POST',
    path: '/agent/invoke',
    headers: { ...(machine ? { MachineId: machine } : {}), 'Tat-Version': '1.1.9', ...signed },
    body: Buffer.from(body),
    label: action || '(none)',
  };
}

function agentWs(r: Rng): Req {
  const headers: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': r.pick(['13', '8']),
    'Sec-WebSocket-Key': r.pick(['dGhlIHNhbXBsZSBub25jZQ==', '']),
  };
  const machine = r.pick([undefined, '', 'rins-zzzzzzzz', 'x'.repeat(300)]);
  if (machine !== undefined) headers.MachineId = machine;
  if (r.int(2) === 0)
    Object.assign(headers, {
      InstanceId: r.pick(['rins-aaaaaaaa', 'bad']),
      RandomKey: 'k'.repeat(32),
      Timestamp: String(Math.floor(Date.now() / 1000)),
      Signature: randomBytes(32).toString('base64'),
    });
  return {
    kind: 'agent-ws',
    method: 'GET',
    path: r.pick(['/agent/ws', '/agent/ws?x=1', '/agent/wsx', '/']),
    headers,
    upgrade: true,
    label: 'upgrade',
  };
}

function cos(r: Rng): Req {
  const key = r.pick([
    'a.log',
    '../../etc/passwd',
    'a//b',
    '%2e%2e/x',
    'x'.repeat(900),
    '',
    'inv/invt.log',
    '%zz',
  ]);
  const method = r.pick(['PUT', 'GET', 'PUT']);
  const now = Math.floor(Date.now() / 1000);
  const auth = r.pick([
    undefined,
    `q-sign-algorithm=sha1&q-ak=AKIDx&q-sign-time=${now};${now + 60}&q-key-time=${now};${now + 60}&q-header-list=&q-url-param-list=&q-signature=${createHmac('sha1', 'k').update('x').digest('hex')}`,
    'q-sign-algorithm=sha1&q-ak=AKIDtatdoutputurl&q-sign-time=1;2&q-signature=0',
    'garbage',
  ]);
  const headers: Record<string, string> = {
    ...(auth !== undefined ? { authorization: auth } : {}),
    ...(r.int(2) === 0 ? { 'x-cos-security-token': r.pick(['a.b', 'x', `${'e30'}.${'AA'}`]) } : {}),
  };
  const body = method === 'PUT' ? Buffer.alloc(r.pick([0, 10, 70_000])) : undefined;
  return {
    kind: 'cos',
    method,
    path: `/cos/${r.pick([BUCKET, 'nope', '..', ''])}/${key}`,
    headers,
    ...(body ? { body } : {}),
    label: method,
  };
}

/** One request of each kind, drawn from `r` (`host`: what the signatures name). */
export function makers(r: Rng, host: string): Record<Kind, () => Req> {
  return {
    'api-unsigned': () => apiUnsigned(r, host),
    'api-tc3': () => apiTc3(r, host),
    'api-v1': () => apiV1(r, host),
    'agent-http': () => agentHttp(r),
    'agent-ws': () => agentWs(r),
    cos: () => cos(r),
  };
}
