// The agent protocol spoken by hand, as the reference agent tat_agent does
// (docs/agent-protocol-reference.md, "HTTP calls"): JSON POSTs with no Content-Type,
// RegisterInstance with a fresh RSA-2048 key (PKCS#1 PEM), and the signed headers of a registered
// agent, computed here with node:crypto alone (not with the agent's code), so the server is checked
// against the specification.

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { WebSocket } from 'ws';

export interface AgentAnswer {
  RequestId: string;
  Error?: { Code: string; Message: string };
  [field: string]: unknown;
}

/**
 * POST to `<tatd>/agent/invoke`, optionally from a local address; the body exactly as given. An
 * https:// tatd is trusted through `ca` (a test CA), as the reference agent would be configured.
 */
export function agentPost(
  tatdUrl: string,
  headers: Record<string, string>,
  body: object | string,
  localAddress?: string,
  ca?: Buffer,
): Promise<AgentAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const transport = tatdUrl.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      `${tatdUrl}/agent/invoke`,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': Buffer.byteLength(text) },
        ...(localAddress ? { localAddress } : {}),
        ...(ca ? { ca } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(
              (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Response: AgentAnswer }).Response,
            );
          } catch (e) {
            reject(e as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

export interface KeyPair {
  publicKey: string;
  privateKey: string;
}

export function rsaKeyPair(bits = 2048): KeyPair {
  return generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
}

export interface WireIdentity {
  machineId: string;
  instanceId: string;
  privateKey: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const newRandomKey = () => Array.from(randomBytes(32), (b) => ALNUM[b % ALNUM.length]).join('');

/** The signed headers (docs/agent-protocol-reference.md); parts may be overridden (to forge or replay). */
export function signedHeaders(
  id: WireIdentity,
  o: { randomKey?: string; timestamp?: number; signWith?: string; machineId?: string } = {},
): Record<string, string> {
  const randomKey = o.randomKey ?? newRandomKey();
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const machineId = o.machineId ?? id.machineId;
  const signature = sign(
    'sha1',
    Buffer.from(machineId + id.instanceId + randomKey + timestamp, 'utf8'),
    o.signWith ?? id.privateKey,
  ).toString('base64');
  return {
    'Tat-Version': '1.1.9',
    'Tat-KernelName': 'Linux',
    MachineId: machineId,
    InstanceId: id.instanceId,
    RandomKey: randomKey,
    Timestamp: timestamp,
    Signature: signature,
  };
}

/** RegisterInstance as `tat_agent register` sends it (unsigned: the machine has no id yet). */
export async function registerByHand(
  tatdUrl: string,
  code: { id: string; value: string },
  machineId: string,
  o: {
    keys?: KeyPair;
    localAddress?: string;
    headers?: Record<string, string>;
    hostname?: string;
    /** CA certificates trusted for an https:// tatd. */
    ca?: Buffer;
    /** tatd's extension of RegisterInstance. */
    tags?: { Key: string; Value: string }[];
  } = {},
): Promise<{ answer: AgentAnswer; identity: WireIdentity | undefined }> {
  const keys = o.keys ?? rsaKeyPair();
  const answer = await agentPost(
    tatdUrl,
    { 'Tat-Version': '1.1.9', 'Tat-KernelName': 'Linux', MachineId: machineId, ...o.headers },
    {
      Action: 'RegisterInstance',
      MachineId: machineId,
      ActiveCode: code.id,
      ActiveValue: code.value,
      PublicKey: keys.publicKey,
      Hostname: o.hostname ?? 'wire-host',
      LocalIp: o.localAddress ?? '127.0.0.1',
      SystemName: 'Linux',
      ...(o.tags ? { Tags: o.tags } : {}),
    },
    o.localAddress,
    o.ca,
  );
  const instanceId = typeof answer.InstanceId === 'string' ? answer.InstanceId : undefined;
  return {
    answer,
    identity: instanceId ? { machineId, instanceId, privateKey: keys.privateKey } : undefined,
  };
}

/** Opens the agent WebSocket with `headers`: the socket, or the HTTP status it was refused with. */
export function openAgentSocket(
  tatdUrl: string,
  headers: Record<string, string>,
  ca?: Buffer,
): Promise<{ ws: WebSocket; status: undefined } | { ws: undefined; status: number }> {
  const ws = new WebSocket(`${tatdUrl.replace('http', 'ws')}/agent/ws`, { headers, ...(ca ? { ca } : {}) });
  ws.on('error', () => undefined); // a refusal also surfaces as an error event
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      resolve({ ws: undefined, status: res.statusCode ?? 0 });
    });
    ws.once('open', () => resolve({ ws, status: undefined }));
  });
}
