// Real agent processes for tests: `bin/tatflow agent` per machine identity, each with its own
// state directory; stopped (and, on test-process exit, killed) by whoever started them.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derivedInstanceId } from '../server/gateway/identity.js';
import type { TatClient } from '../tat/node/client.js';
import { waitFor } from './wait.js';

const BIN = fileURLToPath(new URL('../../bin/tatflow', import.meta.url));

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface AgentProcess {
  machineId: string;
  instanceId: string;
  dir: string;
  proc: ChildProcess;
  /** Output lines of the process so far (JSON logs). */
  lines: string[];
  /** Starts the process again with the same identity and state directory. */
  start(): void;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface AgentSpec {
  machineId: string;
  /** Account key (APPID or SecretId) and region the agent is enrolled into (open enrollment). */
  account: string;
  region?: string;
  dir?: string;
  fleet?: number;
  maxBackoffSeconds?: number;
  /** Use this reference-agent `config.dat` instead of `--server`. */
  configDat?: string;
  /** Extra environment of the agent process (its tasks inherit it). */
  env?: NodeJS.ProcessEnv;
  /** Extra command-line arguments (e.g. `['--source-address', '127.0.0.2']`). */
  args?: string[];
  /** The instance id when it is not derived by open enrollment (a registered `rins-` agent). */
  instanceId?: string;
  /**
   * A command the agent process is started through, which ends by exec'ing its arguments (so the
   * pid stays the agent's): e.g. `unshare --mount` with bind mounts, for tests that give the agent
   * its own view of /etc/profile or /root.
   */
  wrap?: string[];
}

export function startAgent(serverUrl: string, spec: AgentSpec): AgentProcess {
  const dir = spec.dir ?? mkdtempSync(join(tmpdir(), 'tatflow-agent-'));
  const a: AgentProcess = {
    machineId: spec.machineId,
    instanceId:
      spec.instanceId ?? derivedInstanceId(spec.account, spec.region ?? 'ap-guangzhou', spec.machineId),
    dir,
    proc: undefined as unknown as ChildProcess,
    lines: [],
    start() {
      const endpoint = spec.configDat ? ['--config', spec.configDat] : ['--server', serverUrl];
      const args = ['agent', ...endpoint, '--machine-id', spec.machineId, '--dir', dir];
      if (spec.fleet) args.push('--fleet', String(spec.fleet));
      args.push('--max-backoff', String(spec.maxBackoffSeconds ?? 5), ...(spec.args ?? []));
      const [cmd, ...pre] = [...(spec.wrap ?? []), process.execPath, BIN, ...args] as [string, ...string[]];
      const proc = spawn(cmd, pre, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...spec.env },
      });
      live.add(proc);
      proc.on('exit', () => live.delete(proc));
      let rest = '';
      const onData = (d: Buffer) => {
        const parts = (rest + d.toString('utf8')).split('\n');
        rest = parts.pop()!;
        a.lines.push(...parts);
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      a.proc = proc;
    },
    signal(sig) {
      a.proc.kill(sig);
    },
    async stop() {
      const p = a.proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGCONT');
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  a.start();
  return a;
}

export interface RegisterSpec {
  registerCodeId: string;
  registerCodeValue: string;
  machineId: string;
  region?: string;
  /** State directory (where register.json goes without configDat); default a new one. */
  dir?: string;
  /** Register through this reference-agent config.dat (the record is saved in it). */
  configDat?: string;
  sourceAddress?: string;
  /** Extra command-line arguments (e.g. `['--ca-file', file]`). */
  args?: string[];
  /** Extra environment of the process. */
  env?: NodeJS.ProcessEnv;
  /** `--tag key=value` each: the managed instance's tags (a tatd extension). */
  tags?: string[];
}

export interface Registered {
  /** Exit status of `tatflow agent register`. */
  status: number | null;
  /** Its output (`register success: rins-… (saved in …)` or `register failed: …`). */
  output: string;
  dir: string;
  /** The `rins-` id, on success. */
  instanceId: string | undefined;
}

/** `tatflow agent register <region> <id> <value>` as a process; resolves when it has exited. */
export function registerAgent(serverUrl: string, spec: RegisterSpec): Promise<Registered> {
  const dir = spec.dir ?? mkdtempSync(join(tmpdir(), 'tatflow-agent-'));
  const args = [
    BIN,
    'agent',
    'register',
    spec.region ?? 'ap-guangzhou',
    spec.registerCodeId,
    spec.registerCodeValue,
    ...(spec.configDat ? ['--config', spec.configDat] : ['--server', serverUrl]),
    '--machine-id',
    spec.machineId,
    '--dir',
    dir,
    ...(spec.sourceAddress ? ['--source-address', spec.sourceAddress] : []),
    ...(spec.args ?? []),
    ...(spec.tags ?? []).flatMap((t) => ['--tag', t]),
  ];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env },
  });
  live.add(proc);
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  return new Promise((resolve) => {
    proc.on('close', (status) => {
      live.delete(proc);
      resolve({ status, output, dir, instanceId: /register success: (rins-[a-z0-9]+)/.exec(output)?.[1] });
    });
  });
}

/**
 * Registers machines with one new registration code (`tatflow agent register`, with `--tag` each);
 * throws unless every registration succeeded.
 */
export async function registerMachines(
  client: TatClient,
  serverUrl: string,
  machines: { machineId: string; tags?: string[] }[],
  namePrefix = '',
): Promise<(Registered & { instanceId: string })[]> {
  const code = await client.CreateRegisterCode({
    RegisterLimit: machines.length,
    InstanceNamePrefix: namePrefix,
  });
  const out: (Registered & { instanceId: string })[] = [];
  for (const m of machines) {
    const r = await registerAgent(serverUrl, {
      registerCodeId: code.RegisterCodeId!,
      registerCodeValue: code.RegisterCodeValue!,
      ...m,
    });
    if (!r.instanceId) throw new Error(`registering ${m.machineId} failed: ${r.output}`);
    out.push({ ...r, instanceId: r.instanceId });
  }
  return out;
}

/** Waits until DescribeAutomationAgentStatus shows every instance in `status`. */
export async function waitAgents(
  client: TatClient,
  instanceIds: string[],
  status: 'Online' | 'Offline' = 'Online',
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const r = await client.DescribeAutomationAgentStatus({ InstanceIds: instanceIds, Limit: 100 });
      const set = r.AutomationAgentSet ?? [];
      return set.length === instanceIds.length && set.every((x) => x.AgentStatus === status);
    },
    { timeoutMs, what: `agents ${instanceIds.join(', ')} ${status}` },
  );
}
