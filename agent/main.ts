// The agent process: one session per machine identity (`--fleet N` serves N identities from one
// process, each running real shells, for large tests and benchmarks).

import { readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SigningIdentity } from './headers.js';
import { AgentSession, REFERENCE_BACKOFF, type Backoff } from './session.js';
import { TaskWorker } from './worker-executor.js';

export interface AgentOptions {
  invokeUrl: string;
  wsUrl: string;
  machineIds: string[];
  /** State directory; each identity of a fleet gets a sub-directory named after its machine id. */
  dir: string;
  log: Logger;
  backoff?: Backoff;
  /** A registered machine (one identity only): its calls are signed. */
  registration?: SigningIdentity | undefined;
  /** Local address every connection is made from (a multi-homed host). */
  localAddress?: string | undefined;
  /** CA certificates (PEM) trusted for https:// and wss:// instead of the system's. */
  ca?: Buffer | undefined;
}

export interface RunningAgent {
  sessions: AgentSession[];
  stop(): Promise<void>;
}

/** The endpoints under a tatd base URL (design: one listener). */
export function endpointsFromServer(server: string): { invokeUrl: string; wsUrl: string } {
  const u = new URL(server);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`--server must be an http:// or https:// URL (got ${server})`);
  const base = `${u.protocol}//${u.host}`;
  return {
    invokeUrl: `${base}/agent/invoke`,
    wsUrl: `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}/agent/ws`,
  };
}

const ConfigDat = z.object({
  url: z.object({ invoke_url: z.string().url(), ws_url: z.string().url() }),
  /** tatflow's own: CA certificates to trust for https:// and wss:// (the reference agent ignores it). */
  ca_file: z.string().min(1).optional(),
});

/**
 * The reference agent's `config.dat` (docs/agent-protocol-reference.md, "Configuration"):
 * `{"url":{"invoke_url","ws_url"}}`, and tatflow's optional `"ca_file"`.
 */
export function endpointsFromConfigDat(path: string): {
  invokeUrl: string;
  wsUrl: string;
  caFile?: string;
} {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${path} as JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = ConfigDat.safeParse(json);
  if (!r.success) throw new Error(`${path} needs {"url":{"invoke_url":"http://…","ws_url":"ws://…"}}`);
  return {
    invokeUrl: r.data.url.invoke_url,
    wsUrl: r.data.url.ws_url,
    ...(r.data.ca_file ? { caFile: r.data.ca_file } : {}),
  };
}

/** The machine id the reference agent would fall back to: the OS machine id, else the host name. */
export function defaultMachineId(): string {
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id'])
    try {
      const id = readFileSync(f, 'utf8').trim();
      if (id) return id;
    } catch {
      // try the next
    }
  return hostname();
}

export function fleetMachineIds(base: string, fleet: number): string[] {
  if (fleet <= 1) return [base];
  return Array.from({ length: fleet }, (_, i) => `${base}-${i}`);
}

export async function runAgent(o: AgentOptions): Promise<RunningAgent> {
  const fleet = o.machineIds.length > 1;
  if (o.registration && (fleet || o.machineIds[0] !== o.registration.machineId))
    throw new Error(
      `this machine is registered as ${o.registration.instanceId} (MachineId ${o.registration.machineId}); ` +
        'a registered agent serves that one identity (no --fleet, no other --machine-id)',
    );
  await mkdir(o.dir, { recursive: true });
  await chmod(o.dir, 0o711);
  const worker = new TaskWorker(o.log);
  const sessions = o.machineIds.map(
    (machineId) =>
      new AgentSession({
        machineId,
        invokeUrl: o.invokeUrl,
        wsUrl: o.wsUrl,
        dir: fleet ? join(o.dir, machineId) : o.dir,
        log: o.log,
        backoff: o.backoff ?? REFERENCE_BACKOFF,
        worker,
        signing: o.registration,
        localAddress: o.localAddress,
        ca: o.ca,
      }),
  );
  await Promise.all(sessions.map((s) => s.start()));
  o.log.info(
    {
      identities: sessions.length,
      server: o.invokeUrl,
      ...(o.registration ? { instanceId: o.registration.instanceId } : {}),
    },
    'agent started',
  );
  return {
    sessions,
    stop: async () => {
      await Promise.all(sessions.map((s) => s.stop()));
      await worker.close();
    },
  };
}
