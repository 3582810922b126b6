// Which instance an agent is (docs/agent-protocol-reference.md, "Connection", "Registration and
// signed calls", "Identity").
//
// A registered agent signs every call (signature.ts): it is the managed `rins-` instance named by
// its InstanceId header, whatever the enrollment setting. An unregistered agent only names its
// MachineId, which anyone can claim; it is served only with --open-enrollment (development):
// a known machine maps to its instance, an unknown one is enrolled into the first account and
// region under a stable id derived from (account, region, MachineId). Without open enrollment
// (the default) tatd serves registered agents only.

import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isId } from '../../tat/index.js';
import { accountKey } from '../config.js';
import { idFromBytes, type ServerContext } from '../context.js';
import { headerValue as header } from '../../tat/node/signing.js';
import {
  bodyFingerprint,
  IdentityError,
  ReplayGuard,
  SignatureVerifier,
  signedHeadersOf,
  type Claim,
  type SignedHeaders,
} from './signature.js';

export { IdentityError } from './signature.js';

export interface AgentIdentity extends Claim {
  instanceId: string;
  machineId: string;
  /** A registered agent, identified by its signature. */
  managed: boolean;
}

/** How the agent reached us: its WebSocket handshake, or an HTTP call with this body. */
export type AgentChannel = { kind: 'ws' } | { kind: 'http'; body: Buffer | string };

/** `ins-` + 8 characters from a hash of (account, region, MachineId): stable across restarts. */
export function derivedInstanceId(account: string, region: string, machineId: string): string {
  return idFromBytes('ins', createHash('sha256').update(`${account}\0${region}\0${machineId}`).digest());
}

export class AgentDirectory {
  private readonly byMachine = new Map<string, string>();
  private readonly verifier = new SignatureVerifier();
  private readonly replays: ReplayGuard;

  constructor(private readonly server: ServerContext) {
    this.replays = new ReplayGuard(server);
  }

  stop(): void {
    this.replays.stop();
  }

  /**
   * The agent behind a WebSocket handshake or an HTTP call: a registered agent by its signature,
   * an unregistered one (open enrollment only) by its MachineId, enrolled on its first call.
   */
  async identify(headers: IncomingHttpHeaders, channel: AgentChannel): Promise<AgentIdentity> {
    const signed = signedHeadersOf(headers);
    if (signed) return this.identifySigned(signed, channel);
    const machineId = header(headers, 'machineid')?.trim();
    if (!machineId) throw new IdentityError('the request carries no MachineId header');
    if (machineId.length > 128) throw new IdentityError('the MachineId header is longer than 128 characters');
    const { db, config } = this.server;
    if (!config.openEnrollment)
      throw new IdentityError(
        `machine ${machineId} is not known to this server as a registered instance: register it with a ` +
          `registration code (tatflow agent register, or tat_agent register), or start tatd with ` +
          `--open-enrollment to serve unregistered machines (development only)`,
      );
    const cached = this.byMachine.get(machineId);
    if (cached) return { instanceId: cached, machineId, managed: false };
    // Managed rows hold their instance id in machine_id; an unsigned caller never gets one.
    const row = await db
      .selectFrom('instances')
      .select('id')
      .where('machine_id', '=', machineId)
      .where('kind', '!=', 'MANAGED')
      .executeTakeFirst();
    if (row) {
      this.byMachine.set(machineId, row.id);
      return { instanceId: row.id, machineId, managed: false };
    }
    if (isId('managed', machineId))
      throw new IdentityError(`MachineId ${machineId} names a managed instance; it must sign its calls`);
    const account = accountKey(config.accounts[0]!);
    const region = config.regions[0]!.Region;
    const instanceId = derivedInstanceId(account, region, machineId);
    const now = this.server.now();
    await db
      .insertInto('instances')
      .values({
        id: instanceId,
        account,
        region,
        kind: 'CVM',
        machine_id: machineId,
        name: machineId,
        created_at: now,
        agent_version: header(headers, 'tat-version') ?? '',
        environment: header(headers, 'tat-kernelname') === 'Windows' ? 'Windows' : 'Linux',
        last_seen_at: now,
        hostname: '',
      })
      .onConflict((oc) => oc.column('machine_id').doNothing())
      .execute();
    this.server.log.info({ instanceId, machineId, account, region }, 'machine enrolled');
    this.byMachine.set(machineId, instanceId);
    return { instanceId, machineId, managed: false };
  }

  /** A registered agent: fresh Timestamp, known instance, its MachineId, its key, unused RandomKey. */
  private async identifySigned(h: SignedHeaders, channel: AgentChannel): Promise<AgentIdentity> {
    const { db, config } = this.server;
    if (!isId('managed', h.instanceId))
      throw new IdentityError(`InstanceId ${h.instanceId} is not a managed instance id (rins-xxxxxxxx)`);
    const windowMs = config.timings.agentSignatureWindowMs;
    const ts = this.verifier.checkFresh(h, this.server.now(), windowMs);
    const row = await db
      .selectFrom('instances')
      .select(['agent_machine_id', 'public_key'])
      .where('id', '=', h.instanceId)
      .where('kind', '=', 'MANAGED')
      .executeTakeFirst();
    if (!row?.public_key)
      throw new IdentityError(
        `managed instance ${h.instanceId} is not known to this server (deleted, or registered elsewhere): register the machine again`,
      );
    if (row.agent_machine_id !== h.machineId)
      throw new IdentityError(
        `MachineId ${h.machineId} is not the machine ${h.instanceId} was registered from`,
        'AuthFailure.SignatureFailure',
      );
    if (!this.verifier.verify(h, row.public_key))
      throw new IdentityError(
        `the Signature does not verify with the key ${h.instanceId} registered`,
        'AuthFailure.SignatureFailure',
      );
    const claim = await this.replays.claim(
      h.instanceId,
      h.randomKey,
      ts + windowMs,
      channel.kind === 'http' ? bodyFingerprint(channel.body) : undefined,
    );
    return { instanceId: h.instanceId, machineId: h.machineId, managed: true, ...claim };
  }

  /** Records what the agent says of itself on connect (version, OS). */
  async recordConnect(identity: AgentIdentity, headers: IncomingHttpHeaders): Promise<void> {
    await this.server.db
      .updateTable('instances')
      .set({
        agent_version: header(headers, 'tat-version') ?? '',
        environment: header(headers, 'tat-kernelname') === 'Windows' ? 'Windows' : 'Linux',
        last_seen_at: this.server.now(),
      })
      .where('id', '=', identity.instanceId)
      .execute();
  }

  async recordDisconnect(instanceId: string, lastSeen: number): Promise<void> {
    await this.server.db
      .updateTable('instances')
      .set({ last_seen_at: lastSeen })
      .where('id', '=', instanceId)
      .execute();
  }
}
