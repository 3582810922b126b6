// Replayed API requests. A signed request stays valid for the signature window (5 minutes), so a
// captured one could be sent again. TLS is the real defence: a request never seen cannot be
// replayed, and only an encrypted channel stops a request being changed in flight. On top of it
// tatd remembers, until its timestamp leaves the window, each action every accepted signature
// was used for and from which address, in memory and in the store (a restart does not reopen
// the window).
//
// TC3 has no nonce, and the SDKs sign neither X-TC-Action nor X-TC-Region: the signature covers
// the body, host and content type, to the second. Seen again within the window, a signature is
// - refused for the same action when that action changes something (anything but Describe* and
//   Preview*): the signed RunCommand sent twice runs once. Two identical changing calls within
//   one second are, by design, one call; the second can be sent again a second later;
// - accepted for the same read-only action (identical Describe* calls within one second share a
//   signature legitimately), from anywhere;
// - for another action, accepted only from the address that used it first, refused from any
//   other: a captured DescribeCommands resent elsewhere as DeleteCommands deletes nothing. A
//   client legitimately sends different actions with one body within a second
//   (DescribeRegions({}), CreateRegisterCode({})); resending from its address needs its host or
//   a position in the path, from where the request could be changed in flight anyway.
//
// v1 signs every parameter, Action and Nonce included; the official SDKs draw Nonce from 0 to
// 65535, so unrelated calls reuse a Nonce within minutes. A v1 request is a replay when its
// signature (over SecretId, Timestamp, Nonce and every parameter) was seen before.
//
// A replay (the same action again, a v1 request again) is AuthFailure.SignatureExpire: the
// signature is spent, and the one remedy for a legitimate client is to sign anew, a second later
// (clients that re-sign on SignatureExpire recover by themselves). A signature sent for another
// action from another address is AuthFailure.SignatureFailure: the request was changed after
// signing. docs/api-coverage.md says why.

import { TatError } from '../../tat/errors.js';
import type { ServerContext } from '../context.js';

const PRUNE_MEMORY_MS = 5_000;
const PRUNE_STORE_MS = 60_000;

/** Whether an action only reads (its signature may be seen again within the same second). */
export function isReadOnlyAction(action: string): boolean {
  return action.startsWith('Describe') || action.startsWith('Preview');
}

/** One action a signature was used for, from where. */
interface Use {
  action: string;
  address: string;
}

interface Seen {
  uses: Use[];
  until: number;
}

const AGAIN =
  'Sign every request anew; an identical change can be sent again a second later (TC3 timestamps are seconds).';

/** A refusal: its code and why. */
type Verdict = { code: 'AuthFailure.SignatureExpire' | 'AuthFailure.SignatureFailure'; why: string };

/** Why a TC3 signature used for `earlier` may not serve `now`; undefined when it may. */
function tc3Verdict(earlier: Use[], now: Use): Verdict | undefined {
  if (!isReadOnlyAction(now.action) && earlier.some((u) => u.action === now.action))
    return {
      code: 'AuthFailure.SignatureExpire',
      why: `An identical ${now.action} request with this signature was already accepted: a replay. ${AGAIN}`,
    };
  const elsewhere = earlier.find((u) => u.action !== now.action && u.address !== now.address);
  if (elsewhere)
    return {
      code: 'AuthFailure.SignatureFailure',
      why:
        `This signature was used for ${elsewhere.action} from another address and is now sent for ` +
        `${now.action}: the request was changed after signing. ${AGAIN}`,
    };
  return undefined;
}

const v1Verdict = (earlier: Use[]): Verdict | undefined =>
  earlier.length > 0
    ? {
        code: 'AuthFailure.SignatureExpire',
        why: 'This request (SecretId, Timestamp, Nonce and parameters) was already received: a replay. Sign it anew with a new Nonce.',
      }
    : undefined;

export class SignatureLedger {
  private readonly recent = new Map<string, Seen>();
  private readonly timers: NodeJS.Timeout[];

  constructor(private readonly server: ServerContext) {
    this.timers = [
      setInterval(() => this.pruneMemory(), PRUNE_MEMORY_MS),
      setInterval(() => {
        this.pruneStore().catch((err: unknown) =>
          server.log.warn({ err }, 'removing expired API signatures failed'),
        );
      }, PRUNE_STORE_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  /** A TC3 request of `action` from `address` signed `signature`, valid until `expiresAt`. */
  tc3(signature: string, action: string, address: string, expiresAt: number): Promise<void> {
    return this.claim(`tc3:${signature}`, { action, address }, expiresAt, (earlier) =>
      tc3Verdict(earlier, { action, address }),
    );
  }

  /** A v1 request of `secretId` (its Signature covers Timestamp, Nonce and every parameter). */
  v1(secretId: string, signature: string, action: string, address: string, expiresAt: number): Promise<void> {
    return this.claim(`v1:${secretId}:${signature}`, { action, address }, expiresAt, v1Verdict);
  }

  /**
   * Records `use` of `signature`, unless `verdict` finds a reason in its earlier uses to refuse
   * it. The check and the record in memory happen before anything is awaited, so of concurrent
   * copies only the first is taken for new; the store answers for what came before a restart.
   */
  private async claim(
    signature: string,
    use: Use,
    until: number,
    verdict: (earlier: Use[]) => Verdict | undefined,
  ): Promise<void> {
    const refuse = (earlier: Use[]) => {
      const v = verdict(earlier);
      if (v !== undefined) throw new TatError(v.code, v.why);
    };
    const known = this.recent.get(signature);
    if (known) {
      refuse(known.uses);
      if (known.uses.some((u) => u.action === use.action)) return;
      known.uses.push(use);
      await this.record(signature, use, until);
      return;
    }
    const seen: Seen = { uses: [use], until };
    this.recent.set(signature, seen);
    const { db } = this.server;
    const stored = await db
      .selectFrom('api_signatures')
      .select(['action', 'address'])
      .where('signature', '=', signature)
      .execute();
    if (stored.length > 0) {
      // Used before a restart of tatd: judged against those uses.
      seen.uses = [...stored, ...seen.uses.filter((u) => !stored.some((s) => s.action === u.action))];
      try {
        refuse(stored);
      } catch (e) {
        seen.uses = seen.uses.filter((u) => u !== use);
        throw e;
      }
    }
    await this.record(signature, use, until);
  }

  private async record(signature: string, use: Use, until: number): Promise<void> {
    await this.server.db
      .insertInto('api_signatures')
      .values({ signature, action: use.action, address: use.address, expires_at: until })
      .onConflict((oc) => oc.columns(['signature', 'action']).doNothing())
      .execute();
  }

  private pruneMemory(): void {
    const now = this.server.now();
    for (const [key, s] of this.recent) if (s.until < now) this.recent.delete(key);
  }

  private async pruneStore(): Promise<void> {
    await this.server.db.deleteFrom('api_signatures').where('expires_at', '<', this.server.now()).execute();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }
}
