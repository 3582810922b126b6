// Which instance an agent is. Unregistered agents identify by their `MachineId` header
// (agent-protocol.md §2.1, §4). A known machine maps to its instance; an unknown one is enrolled
// only with --open-enrollment, into the first account and region, under a stable id derived from
// (account, region, MachineId).

import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { accountKey } from '../config.js';
import { idFromBytes, type ServerContext } from '../context.js';
import { headerValue as header } from '../../tat/node/signing.js';

export interface AgentIdentity {
  instanceId: string;
  machineId: string;
}

export class IdentityError extends Error {}

/** `ins-` + 8 characters from a hash of (account, region, MachineId): stable across restarts. */
export function derivedInstanceId(account: string, region: string, machineId: string): string {
  return idFromBytes('ins', createHash('sha256').update(`${account}\0${region}\0${machineId}`).digest());
}

export class AgentDirectory {
  private readonly byMachine = new Map<string, string>();

  constructor(private readonly server: ServerContext) {}

  /** Resolves (and, with open enrollment, enrolls) the agent named by the request headers. */
  async identify(headers: IncomingHttpHeaders): Promise<AgentIdentity> {
    const machineId = header(headers, 'machineid')?.trim();
    if (!machineId) throw new IdentityError('the request carries no MachineId header');
    if (machineId.length > 128) throw new IdentityError('the MachineId header is longer than 128 characters');
    const cached = this.byMachine.get(machineId);
    if (cached) return { instanceId: cached, machineId };
    const { db, config } = this.server;
    const row = await db
      .selectFrom('instances')
      .select('id')
      .where('machine_id', '=', machineId)
      .executeTakeFirst();
    if (row) {
      this.byMachine.set(machineId, row.id);
      return { instanceId: row.id, machineId };
    }
    if (!config.openEnrollment)
      throw new IdentityError(
        `machine ${machineId} is not known to this server (start tatd with --open-enrollment to enroll new machines)`,
      );
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
    return { instanceId, machineId };
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
