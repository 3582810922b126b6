// The agent side of registration (docs/agent-protocol-reference.md, "Registration and signed
// calls"): RegisterInstance (`tat_agent register`) and ValidateInstance.
//
// A machine registers with a code's id and value (register-codes.ts) and an RSA public key; from
// then on it is the managed instance (managed-instances.ts) in the code's account and region, and
// signs every call with its key.

import { createPublicKey, timingSafeEqual } from 'node:crypto';
import type {} from 'kysely';
import { TatError, apiTime, checkTags, isId, isRegisterCodeId, LIMITS } from '../../tat/index.js';
import type { AgentRequest } from '../../tat/agent-protocol.js';
import { creationTime, newId, type ServerContext } from '../context.js';
import { addressInRange } from '../gateway/addresses.js';
import { IdentityError } from '../gateway/signature.js';
import type {} from '../store/schema.js';

import { expired, sha256, type CodeRow } from './register-codes.js';

// ---------------------------------------------------------------- the agent side

export interface RegistrationSource {
  /** The agent's address (after trusted proxies): what IpAddressRange is checked against. */
  address: string;
  agentVersion: string;
}

/** The smallest RSA key a machine may register. */
const MIN_KEY_BITS = 2048;

function checkPublicKey(pem: string): void {
  let bits: number | undefined;
  try {
    const key = createPublicKey(pem);
    bits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  } catch {
    bits = undefined;
  }
  if (bits === undefined || bits < MIN_KEY_BITS)
    throw new IdentityError(
      `PublicKey must be an RSA public key of at least ${MIN_KEY_BITS} bits in PEM (-----BEGIN RSA PUBLIC KEY-----)`,
      'InvalidParameter',
    );
}

/**
 * `RegisterInstance`: the code (id and value) must exist, be enabled, unexpired, not used up,
 * and allow the agent's address; the machine then becomes a new managed instance of the code's
 * account and region. Registering again makes another instance; the earlier one stays (Offline)
 * until DeleteRegisterInstance.
 */
export async function registerInstance(
  server: ServerContext,
  p: AgentRequest<'RegisterInstance'>,
  source: RegistrationSource,
): Promise<{ InstanceId: string }> {
  checkPublicKey(p.PublicKey);
  // tatd extension: the machine's tags, given at registration (`tatflow agent register --tag`).
  const tags = p.Tags ?? [];
  try {
    checkTags(tags);
  } catch (e) {
    if (e instanceof TatError) throw new IdentityError(e.message, 'InvalidParameterValue');
    throw e;
  }
  const notFound = () =>
    new IdentityError(
      `there is no registration code ${p.ActiveCode.slice(0, 64)} with this value`,
      'ResourceNotFound.RegisterCodesNotFoundCode',
    );
  if (!isRegisterCodeId(p.ActiveCode)) throw notFound();
  const { db } = server;
  const code = await db
    .selectFrom('register_codes')
    .selectAll()
    .where('id', '=', p.ActiveCode)
    .executeTakeFirst();
  const given = sha256(p.ActiveValue);
  if (!code || !timingSafeEqual(given, Buffer.from(code.value_sha256, 'hex'))) throw notFound();
  const refusal = (row: CodeRow, now: number): IdentityError | undefined => {
    if (row.enabled !== 1)
      return new IdentityError(`registration code ${row.id} is disabled`, 'ResourceUnavailable');
    if (expired(row, now))
      return new IdentityError(
        `registration code ${row.id} expired at ${apiTime(row.expires_at!)}`,
        'ResourceUnavailable',
      );
    if (!addressInRange(source.address, row.ip_address_range))
      return new IdentityError(
        `this machine's address ${source.address} is not in the IpAddressRange ${row.ip_address_range} of registration code ${row.id}`,
        'IpNotInWhitelist',
      );
    if (row.registered_count >= row.register_limit)
      return new IdentityError(
        `registration code ${row.id} is used up: ${row.registered_count} of ${row.register_limit} machines registered`,
        'LimitExceeded',
      );
    return undefined;
  };
  const now = server.now();
  const early = refusal(code, now);
  if (early) throw early;

  const instanceId = newId('rins');
  const hostname = p.Hostname.trim();
  const name = (code.instance_name_prefix + hostname).slice(0, LIMITS.managedInstanceNameChars) || instanceId;
  await db.transaction().execute(async (trx) => {
    // One conditional update: concurrent registrations cannot exceed RegisterLimit.
    const taken = await trx
      .updateTable('register_codes')
      .set((eb) => ({ registered_count: eb('registered_count', '+', 1) }))
      .where('id', '=', code.id)
      .where('enabled', '=', 1)
      .where('registered_count', '<', (eb) => eb.ref('register_limit'))
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) {
      const again = await trx
        .selectFrom('register_codes')
        .selectAll()
        .where('id', '=', code.id)
        .executeTakeFirst();
      throw (again && refusal(again, now)) ?? notFound();
    }
    const at = creationTime(now);
    await trx
      .insertInto('instances')
      .values({
        id: instanceId,
        account: code.account,
        region: code.region,
        kind: 'MANAGED',
        // machine_id is unique; a managed row keeps its instance id there, the MachineId apart.
        machine_id: instanceId,
        agent_machine_id: p.MachineId,
        name,
        created_at: at,
        updated_at: at,
        agent_version: source.agentVersion,
        environment: p.SystemName === 'Windows' ? 'Windows' : 'Linux',
        last_seen_at: at,
        hostname,
        local_ip: p.LocalIp,
        register_code_id: code.id,
        public_key: p.PublicKey,
        tags: JSON.stringify(tags),
      })
      .execute();
  });
  server.log.info(
    {
      instanceId,
      machineId: p.MachineId,
      registerCodeId: code.id,
      account: code.account,
      region: code.region,
      peer: source.address,
    },
    'machine registered',
  );
  return { InstanceId: instanceId };
}

/**
 * `ValidateInstance` (the reference agent's check at start-up): succeeds for a registered agent
 * (its signature was verified already) and records what it says of itself.
 */
export async function validateInstance(
  server: ServerContext,
  instanceId: string,
  p: AgentRequest<'ValidateInstance'>,
): Promise<object> {
  if (!isId('managed', instanceId))
    throw new IdentityError(
      `${instanceId} is not a registered (rins-) instance; it works as an unregistered machine`,
      'UnauthorizedOperation',
    );
  const row = await server.db
    .selectFrom('instances')
    .select(['hostname', 'local_ip', 'environment'])
    .where('id', '=', instanceId)
    .executeTakeFirst();
  if (!row) return {};
  const next = {
    hostname: p.Hostname ?? row.hostname,
    local_ip: p.LocalIp ?? row.local_ip,
    environment: p.SysName === undefined ? row.environment : p.SysName === 'Windows' ? 'Windows' : 'Linux',
  };
  if (
    next.hostname !== row.hostname ||
    next.local_ip !== row.local_ip ||
    next.environment !== row.environment
  )
    await server.db
      .updateTable('instances')
      .set({ ...next, updated_at: server.now() })
      .where('id', '=', instanceId)
      .execute();
  return {};
}
