// tatd configuration: from a config file (recommended for keys), TATFLOW_ACCOUNTS and flags,
// validated with zod so a bad value is reported by name before anything starts.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/** `a.b.c.d`, `a.b.c.d/n`, or the same for IPv6. */
export function isAddressOrBlock(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

export const DEFAULT_REGIONS: ReadonlyArray<{ Region: string; RegionName: string }> = [
  { Region: 'ap-guangzhou', RegionName: 'South China (Guangzhou)' },
  { Region: 'ap-shanghai', RegionName: 'East China (Shanghai)' },
  { Region: 'ap-nanjing', RegionName: 'East China (Nanjing)' },
  { Region: 'ap-beijing', RegionName: 'North China (Beijing)' },
  { Region: 'ap-chengdu', RegionName: 'Southwest China (Chengdu)' },
  { Region: 'ap-chongqing', RegionName: 'Southwest China (Chongqing)' },
  { Region: 'ap-hongkong', RegionName: 'Hong Kong, Macau and Taiwan (China) (Hong Kong, China)' },
  { Region: 'ap-singapore', RegionName: 'Southeast Asia (Singapore)' },
  { Region: 'ap-seoul', RegionName: 'Northeast Asia (Seoul)' },
  { Region: 'eu-frankfurt', RegionName: 'Europe (Frankfurt)' },
  { Region: 'na-siliconvalley', RegionName: 'Western US (Silicon Valley)' },
];

export const Account = z.object({
  secretId: z.string().min(1),
  secretKey: z.string().min(1),
  /** Key pairs that share an APPID are one account (key rotation). */
  appId: z.string().min(1).optional(),
  /**
   * Temporary credentials: the STS session token every request signed with this key must carry
   * (X-TC-Token, or Token in v1). tatd has no STS, so this is how it knows a token it can check.
   */
  token: z.string().min(1).optional(),
});
export type Account = z.infer<typeof Account>;

const ms = z.number().int().positive();
const count = z.number().int().positive();
const MiB = 1024 * 1024;

/**
 * Account entries that would be merged silently: the same SecretId twice, or a SecretId equal to
 * another entry's APPID (a key without an APPID is its own account, named by its SecretId).
 */
export function accountCollisions(accounts: readonly Account[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const a of accounts) {
    if (seen.has(a.secretId)) problems.push(`SecretId "${a.secretId}" is given more than once`);
    seen.add(a.secretId);
  }
  for (const a of accounts)
    for (const b of accounts)
      if (a !== b && b.appId !== undefined && a.secretId === b.appId)
        problems.push(
          `SecretId "${a.secretId}" is also the APPID of key "${b.secretId}": the two would be one account`,
        );
  return [...new Set(problems)];
}

export const ServerConfig = z
  .object({
    listen: z
      .string()
      .regex(/^[^:]+:\d+$/, 'listen must be HOST:PORT')
      .default('127.0.0.1:9000'),
    data: z.string().min(1),
    accounts: z
      .array(Account)
      .min(1, 'at least one account (SecretId:SecretKey) is required')
      .superRefine((l, ctx) => {
        for (const message of accountCollisions(l)) ctx.addIssue({ code: 'custom', message });
      }),
    /**
     * PEM files of the listener's certificate (chain) and private key: the API, the agent channel
     * (https:// and wss://) and the object store are then served over TLS.
     */
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /** Listen without TLS on an address other than loopback (a private network; logs a warning). */
    insecureHttp: z.boolean().default(false),
    regions: z
      .array(
        z.object({
          Region: z.string().min(1),
          RegionName: z.string(),
          /**
           * DescribeRegions shows it. In an UNAVAILABLE region every other action answers
           * UnsupportedRegion; its agents still report the tasks they run.
           */
          RegionState: z.enum(['AVAILABLE', 'UNAVAILABLE']).default('AVAILABLE'),
        }),
      )
      .min(1)
      .refine((l) => new Set(l.map((r) => r.Region)).size === l.length, 'region ids must be unique')
      .refine(
        (l) => l[0]!.RegionState === 'AVAILABLE',
        'the first region must be AVAILABLE (open enrollment puts new agents there)',
      )
      .prefault([...DEFAULT_REGIONS]),
    openEnrollment: z.boolean().default(false),
    /**
     * Temporal frontend (HOST:PORT) for invokers. Without one, tatd runs the pinned Temporal dev
     * server itself, on `<data>/temporal/`, once an invoker exists. A tatd with no invokers never
     * starts or contacts Temporal.
     */
    temporalAddress: z
      .string()
      .regex(/^\S+:\d+$/, 'temporalAddress must be HOST:PORT')
      .optional(),
    /** Where tatd's invoker Schedules and workflows live (on a shared Temporal, too). */
    temporalNamespace: z.string().min(1).default('default'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Values a command gets when the caller names none (design: `tatflow dev` as non-root changes them). */
    defaults: z
      .object({
        username: z.string().default('root'),
        workingDirectory: z.string().default('/root'),
        windowsWorkingDirectory: z.string().default('C:\\Program Files\\qcloud\\tat_agent\\workdir'),
      })
      .prefault({}),
    /** Per account and region (DescribeQuotas): saved commands, registration codes. */
    quotas: z
      .object({
        command: z.number().int().positive().default(500),
        registerCode: z.number().int().positive().default(5000),
        /** Invokers per account and region (not in DescribeQuotas: TAT has no such quota name). */
        invoker: z.number().int().positive().default(500),
      })
      .prefault({}),
    /**
     * Load balancers or proxies in front of tatd (addresses or CIDR blocks). A request from one of
     * them is taken to come from the address it names in X-Forwarded-For: that is the address a
     * registration code's IpAddressRange is checked against. Empty: the peer address is used.
     */
    trustedProxies: z
      .array(z.string().refine(isAddressOrBlock, 'must be an IP address or CIDR block'))
      .default([]),
    /** Slow and idle clients, and how many may be connected at once. */
    connections: z
      .object({
        /** The request line and headers must arrive within this (slowloris). */
        headersTimeoutMs: ms.default(10_000),
        /** The whole request, body included, must arrive within this (an upload: 100 MB at 1 MB/s). */
        requestTimeoutMs: ms.default(300_000),
        /** A connection with no traffic at all for this long is closed. */
        idleTimeoutMs: ms.default(30_000),
        /** How long a kept-alive connection waits for its next request. */
        keepAliveTimeoutMs: ms.default(5_000),
        /** How often the header and request deadlines are checked. */
        checkIntervalMs: ms.default(1_000),
        /** HTTP connections at once; agents' WebSockets do not count (`maxAgentSockets`). */
        maxHttp: count.default(1_000),
        /** Agents' WebSockets at once. */
        maxAgentSockets: count.default(10_000),
        /** Largest API request body (RequestSizeLimitExceeded). */
        apiBodyBytes: count.default(MiB),
        /** Largest agent HTTP request body. */
        agentBodyBytes: count.default(64 * 1024),
      })
      .prefault({})
      .refine(
        (c) => c.headersTimeoutMs <= c.requestTimeoutMs,
        'connections.headersTimeoutMs must not be above connections.requestTimeoutMs',
      ),
    /** Requests per account, address and instance (RequestLimitExceeded); off for benchmarks. */
    rateLimit: z
      .object({
        enabled: z.boolean().default(true),
        /** API calls per second of one action by one account (TAT: 20). */
        apiPerActionPerSecond: count.default(20),
        /** Failed authentications per minute from one address; beyond, it is refused for the minute. */
        failedAuthPerMinute: count.default(30),
        /** RegisterInstance calls per minute from one address. */
        registerPerMinute: count.default(30),
        /** ReportAgentLog calls per minute from one instance. */
        agentLogPerMinute: count.default(10),
      })
      .prefault({}),
    /** What one agent may make tatd store. */
    agents: z
      .object({
        /** Output bytes kept per task (TAT keeps 24 KB; the rest is only counted in Dropped). */
        outputBytesPerTask: count.max(24 * 1024).default(24 * 1024),
        /** Largest ReportAgentLog `LogInfo`, in bytes. */
        agentLogBytes: count.default(4096),
      })
      .prefault({}),
    timings: z
      .object({
        /** An undelivered task becomes DELIVER_FAILED after this long (design: 10 minutes). */
        deliveryTimeoutMs: ms.default(600_000),
        /** A started task becomes TASK_TIMEOUT after Timeout plus this grace without a finish. */
        taskTimeoutGraceMs: ms.default(60_000),
        /**
         * After a start, run deadlines wait this long so agents can come back and re-send what they
         * kept. The reference agent notices a tatd that died without closing its socket only at its
         * next ping (every 120 s), then backs off a few seconds: 150 s covers that.
         */
        restartGraceMs: ms.default(150_000),
        sweepIntervalMs: ms.default(1_000),
        /** Allowed clock skew of a signed request (API 3.0: 5 minutes). */
        signatureWindowMs: ms.default(300_000),
        /** An agent WebSocket with no ping or message for this long is dropped (3 missed pings). */
        agentIdleMs: ms.default(390_000),
        /** Allowed clock skew of a registered agent's signed headers (their `Timestamp`). */
        agentSignatureWindowMs: ms.default(300_000),
        /** One hour of a registration code's EffectiveTime (tests shorten it). */
        registerCodeHourMs: ms.default(3_600_000),
        /**
         * An invoker fire missed while Temporal or tatd was down is caught up this long after its
         * time, and skipped (recorded as such) after that. Temporal's minimum is 10 s.
         */
        invokerCatchUpMs: z.number().int().min(10_000).default(60_000),
        /**
         * How often tatd compares Temporal's Schedules with its invokers (and records fires that were
         * missed), besides at start-up and when Temporal comes back.
         */
        invokerHealIntervalMs: ms.default(60_000),
      })
      .prefault({}),
    /** The built-in object store that takes task output uploads (OutputCOSBucketUrl), under `--data`. */
    cos: z
      .object({
        /**
         * Its buckets, reached as `<tatd URL>/cos/<name>`. With `appId`, only that account (its
         * APPID, or SecretId when it has none) may use the bucket.
         */
        buckets: z
          .array(
            z.object({
              name: z
                .string()
                .regex(
                  /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/,
                  'a bucket name is 1 to 50 of a-z, 0-9 and "-", not starting or ending with "-"',
                ),
              appId: z.string().min(1).optional(),
            }),
          )
          .refine((l) => new Set(l.map((b) => b.name)).size === l.length, 'bucket names must be unique')
          .default([]),
        /** Development only: accept `http://` bucket URLs (the API requires https). */
        allowHttp: z.boolean().default(false),
        /** How long a credential from GetCosCredential is valid. */
        credentialTtlMs: ms.default(3_600_000),
        /** How long a task's OutputUrl stays valid after DescribeInvocationTasks returned it. */
        outputUrlTtlMs: ms.default(86_400_000),
        /** Largest object a PUT may store. */
        maxObjectBytes: count.default(100 * MiB),
        /** Bytes of objects one account may keep, all its buckets together. */
        quotaBytesPerAccount: count.default(10 * 1024 * MiB),
        /** Objects go when retention removes the invocation records that point to them. */
        removeWithRecords: z.boolean().default(true),
      })
      .prefault({}),
    /** Invocation records removed by a periodic job (TAT keeps 3 months and 10000 per account). */
    retention: z
      .object({
        /** Fractions allowed (tests use seconds). */
        maxAgeDays: z.number().positive().default(90),
        maxInvocationsPerAccount: z.number().int().positive().default(10_000),
        intervalMs: ms.default(3_600_000),
        /** Tasks removed per transaction; the API is served between two. */
        batchSize: z.number().int().positive().default(500),
        /** Records kept per invoker (DescribeInvokerRecords), the newest. */
        maxRecordsPerInvoker: z.number().int().positive().default(1000),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.tls === undefined && !c.insecureHttp && !isLoopbackHost(listenHost(c.listen)))
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message:
          `${c.listen} is reachable from other machines and tatd has no TLS: give tls.cert and tls.key ` +
          '(--tls-cert, --tls-key), or insecureHttp (--insecure-http) on a private network',
      });
  });
export type ServerConfig = z.infer<typeof ServerConfig>;

/** The host part of `listen` (HOST:PORT). */
export function listenHost(listen: string): string {
  return listen.replace(/:\d+$/, '');
}

/** `localhost` and 127.0.0.0/8: only this machine reaches a listener there. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
export type ServerConfigInput = z.input<typeof ServerConfig>;

/** `ID:KEY[:APPID]`, as in `--account` and TATFLOW_ACCOUNTS (comma separated). */
export function parseAccountSpec(spec: string): Account {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0))
    throw new Error(
      `account "${spec.split(':')[0]}:…" must be SECRET_ID:SECRET_KEY or SECRET_ID:SECRET_KEY:APPID`,
    );
  const [secretId, secretKey, appId] = parts as [string, string, string | undefined];
  return appId ? { secretId, secretKey, appId } : { secretId, secretKey };
}

export function accountsFromEnv(value: string | undefined): Account[] {
  if (!value) return [];
  return value
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(parseAccountSpec);
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read config file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`config file ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

export function parseServerConfig(input: unknown): ServerConfig {
  const r = ServerConfig.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`invalid tatd configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** The account key of a key pair: its APPID when given, else the SecretId itself. */
export function accountKey(a: Account): string {
  return a.appId ?? a.secretId;
}
