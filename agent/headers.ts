// Identity headers sent on the WebSocket handshake and on every HTTP call
// (docs/agent-protocol-reference.md, "Connection"), and, once the machine is registered, the signed
// headers (docs/agent-protocol-reference.md, "Registration and signed calls"): MachineId,
// InstanceId, a fresh RandomKey and Timestamp, and an RSA-SHA1 Signature over them with the
// registered key.

import { randomInt, sign, type KeyObject } from 'node:crypto';
import { arch, release, type, uptime, version } from 'node:os';
import { signedText } from '../tat/agent-protocol.js';

export const AGENT_VERSION = '1.1.9-tatflow';

export function agentHeaders(machineId: string): Record<string, string> {
  const kernelName = type() === 'Windows_NT' ? 'Windows' : type();
  return {
    'Tat-Version': AGENT_VERSION,
    'Tat-Pid': String(process.pid),
    'Tat-KernelName': kernelName,
    'Tat-KernelVersion': release(),
    'Tat-OSVersion': version(),
    'Tat-CPUArch': arch() === 'x64' ? 'x86_64' : arch(),
    'Tat-UptimeSecs': String(Math.floor(uptime())),
    MachineId: machineId,
  };
}

/** What a registered agent signs with. */
export interface SigningIdentity {
  machineId: string;
  instanceId: string;
  privateKey: KeyObject;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random letters and digits, like the reference agent's RandomKey. */
export function randomKey(length = 32): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** The signed headers for one request (a new RandomKey and Timestamp every time). */
export function signedHeaders(id: SigningIdentity, nowMs = Date.now()): Record<string, string> {
  const key = randomKey();
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = sign(
    'sha1',
    Buffer.from(signedText(id.machineId, id.instanceId, key, timestamp), 'utf8'),
    id.privateKey,
  ).toString('base64');
  return {
    MachineId: id.machineId,
    InstanceId: id.instanceId,
    RandomKey: key,
    Timestamp: timestamp,
    Signature: signature,
  };
}

/** The headers of one request: identity, plus the signature once the machine is registered. */
export function requestHeaders(machineId: string, signing?: SigningIdentity): Record<string, string> {
  const base = agentHeaders(machineId);
  return signing ? { ...base, ...signedHeaders(signing) } : base;
}
