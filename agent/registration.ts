// Registering a machine with a registration code (`tatflow agent register`;
// docs/agent-protocol-reference.md, "Registration and signed calls"), as the reference agent's
// `tat_agent register <region> <id> <value>` does: a fresh RSA-2048 key pair (PKCS#1 PEM),
// `RegisterInstance` with the public key, and the `rins-` id saved with the private key in a file
// only the agent's user can read (mode 0600).
//
// The record has the reference agent's layout, `{"register": {region, register_code, machine_id,
// private_key, instance_id}}`. With `--config config.dat` it is written into that file, next to
// its `url` section, exactly where tat_agent keeps it (so either agent can use it); with
// `--server` into `<dir>/register.json`. The code's value is a reusable secret and is not kept.

import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces, type } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { RegisterInstanceResponse } from '../tat/agent-protocol.js';
import { isId } from '../tat/ids.js';
import { agentHeaders, type SigningIdentity } from './headers.js';
import { InvokeClient } from './invoke-client.js';

export const REGISTER_FILE = 'register.json';

const RegisterRecord = z.object({
  region: z.string().default(''),
  register_code: z.string().default(''),
  machine_id: z.string().min(1).max(128),
  private_key: z.string().min(1),
  instance_id: z.string().refine((v) => isId('managed', v), 'must be a managed instance id (rins-…)'),
});
export type RegisterRecord = z.infer<typeof RegisterRecord>;

export interface Registration extends SigningIdentity {
  region: string;
  registerCodeId: string;
  /** The file it was read from. */
  file: string;
}

/** Where an agent's registration lives: its config.dat when it has one, else `<dir>/register.json`. */
export function registrationFile(o: { configDat?: string | undefined; dir: string }): string {
  return o.configDat ?? join(o.dir, REGISTER_FILE);
}

function readJson(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file} is not a JSON object: ${(e as Error).message}`, { cause: e });
  }
}

/** The registration kept in `file`, undefined when the machine is not registered. */
export function loadRegistration(file: string): Registration | undefined {
  const doc = readJson(file);
  if (!doc || doc.register === undefined) return undefined;
  const r = RegisterRecord.safeParse(doc.register);
  if (!r.success)
    throw new Error(
      `the registration in ${file} is unusable (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); register again`,
    );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(r.data.private_key);
  } catch (e) {
    throw new Error(`the private key in ${file} cannot be read: ${(e as Error).message}; register again`, {
      cause: e,
    });
  }
  return {
    region: r.data.region,
    registerCodeId: r.data.register_code,
    machineId: r.data.machine_id,
    instanceId: r.data.instance_id,
    privateKey,
    file,
  };
}

/** Writes the record into `file` (keeping its other sections), readable by its owner only. */
export function saveRegistration(file: string, record: RegisterRecord): void {
  const doc = readJson(file) ?? {};
  doc.register = record;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * The address this machine reaches `url` from, found as the reference agent does: a UDP socket
 * "connected" to the server (no packet is sent). `localAddress` wins when given.
 */
export async function localIpFor(url: URL, localAddress?: string): Promise<string> {
  if (localAddress) return localAddress;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80);
  const fallback = () =>
    Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    const done = (ip: string) => {
      socket.close();
      resolve(ip);
    };
    socket.once('error', () => done(fallback()));
    socket.connect(port, host, () => done(socket.address().address));
  });
}

export interface RegisterOptions {
  invokeUrl: string;
  region: string;
  registerCodeId: string;
  registerCodeValue: string;
  machineId: string;
  /** Send from this local address (also reported as the machine's LocalIp). */
  localAddress?: string | undefined;
  /** CA certificates (PEM) trusted for https:// instead of the system's. */
  ca?: Buffer | undefined;
  /** The instance's tags (a tatd extension of RegisterInstance; TAT itself takes none). */
  tags?: { Key: string; Value: string }[] | undefined;
}

/** Registers the machine; returns the record to save (its private key included). */
export async function registerMachine(o: RegisterOptions): Promise<RegisterRecord> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const url = new URL(o.invokeUrl);
  const client = new InvokeClient(o.invokeUrl, agentHeaders(o.machineId), {
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
  });
  const answer = await client.callWithRetry(
    'RegisterInstance',
    {
      MachineId: o.machineId,
      ActiveCode: o.registerCodeId,
      ActiveValue: o.registerCodeValue,
      PublicKey: publicKey,
      Hostname: hostname(),
      LocalIp: await localIpFor(url, o.localAddress),
      SystemName: type() === 'Windows_NT' ? 'Windows' : 'Linux',
      ...(o.tags?.length ? { Tags: o.tags } : {}),
    },
    2,
  );
  const parsed = RegisterInstanceResponse.safeParse(answer);
  if (!parsed.success || !isId('managed', parsed.data.InstanceId))
    throw new Error(`the server answered no managed instance id: ${JSON.stringify(answer).slice(0, 200)}`);
  return {
    region: o.region,
    register_code: o.registerCodeId,
    machine_id: o.machineId,
    private_key: privateKey,
    instance_id: parsed.data.InstanceId,
  };
}
