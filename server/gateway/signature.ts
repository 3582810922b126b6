// Signed requests of registered (`rins-`) agents (docs/agent-protocol-reference.md, "Registration
// and signed calls"): every WebSocket handshake and every HTTP call carries MachineId, InstanceId,
// RandomKey, Timestamp and an RSA-SHA1 Signature over their concatenation, made with the key the
// agent registered.
//
// tatd checks the Timestamp against its clock (a window, default 5 minutes), the signature against
// the public key of that instance, and that the RandomKey was not used before while its Timestamp
// is valid. RandomKeys are kept in the store, so a restart of tatd does not open a replay window.
//
// The reference agent retries an HTTP call once, 500 ms later, with the very same headers when
// the first attempt failed at the transport level (reqwest's cloned request). The first attempt
// may have reached tatd all the same (its answer lost, or later than the agent's 10 s timeout).
// Such a repeat (same RandomKey, same instance, same body, within 30 s) is not run again: it gets
// the answer of the first attempt, once that is ready. Any other reuse of a RandomKey (another
// body, a WebSocket handshake, later than 30 s) is refused as a replay.

import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { signedText } from '../../tat/agent-protocol.js';
import { headerValue as header } from '../../tat/node/signing.js';
import type { ServerContext } from '../context.js';

/** An agent's identity could not be established, or its registration was refused. */
export class IdentityError extends Error {
  constructor(
    message: string,
    readonly code: string = 'AuthFailure.UnauthorizedOperation',
  ) {
    super(message);
  }
}

export interface SignedHeaders {
  machineId: string;
  instanceId: string;
  randomKey: string;
  timestamp: string;
  signature: string;
}

/**
 * The signed headers of a request; undefined when it carries none of InstanceId, RandomKey,
 * Timestamp and Signature (an unregistered agent). A request with only some of them is refused.
 */
export function signedHeadersOf(headers: IncomingHttpHeaders): SignedHeaders | undefined {
  const h = {
    machineId: header(headers, 'machineid')?.trim() ?? '',
    instanceId: header(headers, 'instanceid')?.trim() ?? '',
    randomKey: header(headers, 'randomkey')?.trim() ?? '',
    timestamp: header(headers, 'timestamp')?.trim() ?? '',
    signature: header(headers, 'signature')?.trim() ?? '',
  };
  const present = [h.instanceId, h.randomKey, h.timestamp, h.signature].filter((v) => v !== '');
  if (present.length === 0) return undefined;
  const missing = Object.entries(h)
    .filter(([, v]) => v === '')
    .map(([k]) => k.charAt(0).toUpperCase() + k.slice(1));
  if (missing.length > 0)
    throw new IdentityError(
      `a signed request needs MachineId, InstanceId, RandomKey, Timestamp and Signature; ${missing.join(', ')} missing`,
      'AuthFailure.SignatureFailure',
    );
  return h;
}

const RANDOM_KEY = /^[A-Za-z0-9]{16,128}$/;
const TIMESTAMP = /^\d{1,12}$/;
const KEY_CACHE_SIZE = 10_000;

export class SignatureVerifier {
  private readonly keys = new Map<string, KeyObject>();

  /**
   * Checks the form of the headers and the Timestamp; returns the Timestamp in milliseconds.
   * Cheap, so it runs before the store is asked anything.
   */
  checkFresh(h: SignedHeaders, now: number, windowMs: number): number {
    if (!RANDOM_KEY.test(h.randomKey))
      throw new IdentityError(
        'RandomKey must be 16 to 128 letters and digits',
        'AuthFailure.SignatureFailure',
      );
    if (!TIMESTAMP.test(h.timestamp))
      throw new IdentityError('Timestamp must be Unix time in seconds', 'AuthFailure.SignatureFailure');
    const ts = Number(h.timestamp) * 1000;
    if (Math.abs(now - ts) > windowMs)
      throw new IdentityError(
        `Timestamp ${h.timestamp} is more than ${windowMs / 1000} s away from the server's clock`,
        'AuthFailure.SignatureExpire',
      );
    return ts;
  }

  /** True when Signature is the RSA-SHA1 signature of the headers by `publicKeyPem`'s key. */
  verify(h: SignedHeaders, publicKeyPem: string): boolean {
    let key = this.keys.get(publicKeyPem);
    if (!key) {
      key = createPublicKey(publicKeyPem);
      if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value!);
      this.keys.set(publicKeyPem, key);
    }
    const data = Buffer.from(signedText(h.machineId, h.instanceId, h.randomKey, h.timestamp), 'utf8');
    try {
      return verify('sha1', data, key, Buffer.from(h.signature, 'base64'));
    } catch {
      return false;
    }
  }
}

/** What claiming a RandomKey gave: a fresh request, or the repeat of one already received. */
export interface Claim {
  /** The answer of the first attempt (undefined if that one was refused): answer it again. */
  repeatOf?: Promise<string | undefined>;
  /** A fresh HTTP request: record its answer for a repeat. Called once, whatever the outcome. */
  answered?: (answer: string) => void;
}

interface Recent {
  instanceId: string;
  /** SHA-256 of the body; undefined for a WebSocket handshake (never repeated). */
  fingerprint: string | undefined;
  answer: Promise<string | undefined> | undefined;
  until: number;
}

/** How long the answer of a signed call is kept for the reference agent's identical retry. */
export const REPEAT_WINDOW_MS = 30_000;
const PRUNE_MEMORY_MS = 5_000;
const PRUNE_STORE_MS = 60_000;

export const bodyFingerprint = (body: Buffer | string) => createHash('sha256').update(body).digest('hex');

export class ReplayGuard {
  /** RandomKeys of the last REPEAT_WINDOW_MS; older ones are known only to the store. */
  private readonly recent = new Map<string, Recent>();
  private readonly timers: NodeJS.Timeout[];

  constructor(private readonly server: ServerContext) {
    this.timers = [
      setInterval(() => this.pruneMemory(), PRUNE_MEMORY_MS),
      setInterval(() => {
        this.pruneStore().catch((err: unknown) =>
          server.log.warn({ err }, 'removing expired agent RandomKeys failed'),
        );
      }, PRUNE_STORE_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  /**
   * Claims `randomKey` for one request of `instanceId`; it stays claimed until `expiresAt` (when
   * its Timestamp stops being accepted). `fingerprint` is that of the HTTP body, undefined for a
   * WebSocket handshake.
   */
  async claim(
    instanceId: string,
    randomKey: string,
    expiresAt: number,
    fingerprint: string | undefined,
  ): Promise<Claim> {
    const now = this.server.now();
    const replay = () =>
      new IdentityError(
        `RandomKey ${randomKey} was used before: a replayed request`,
        'AuthFailure.SignatureFailure',
      );
    const seen = this.recent.get(randomKey);
    if (seen) {
      if (
        fingerprint !== undefined &&
        seen.fingerprint === fingerprint &&
        seen.instanceId === instanceId &&
        seen.answer &&
        now <= seen.until
      )
        return { repeatOf: seen.answer };
      throw replay();
    }
    // Claimed in memory before anything is awaited: a concurrent copy finds it above.
    let settle: ((answer: string | undefined) => void) | undefined;
    const answer =
      fingerprint === undefined
        ? undefined
        : new Promise<string | undefined>((resolve) => {
            settle = resolve;
          });
    const entry: Recent = { instanceId, fingerprint, answer, until: now + REPEAT_WINDOW_MS };
    this.recent.set(randomKey, entry);
    let fresh = false;
    try {
      const r = await this.server.db
        .insertInto('agent_random_keys')
        .values({ random_key: randomKey, instance_id: instanceId, expires_at: expiresAt })
        .onConflict((oc) => oc.column('random_key').doNothing())
        .executeTakeFirst();
      fresh = Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    } finally {
      if (!fresh) {
        entry.answer = undefined;
        settle?.(undefined);
      }
    }
    if (!fresh) throw replay();
    return settle ? { answered: settle } : {};
  }

  private pruneMemory(): void {
    const now = this.server.now();
    for (const [key, r] of this.recent) if (r.until < now) this.recent.delete(key);
  }

  private async pruneStore(): Promise<void> {
    await this.server.db
      .deleteFrom('agent_random_keys')
      .where('expires_at', '<', this.server.now())
      .execute();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }
}
