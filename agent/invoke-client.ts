// The agent's HTTP "invoke" calls (docs/agent-protocol-reference.md, "HTTP calls"): `POST
// <invoke_url>` with `{"Action": ..., <fields>}` and the identity headers; the answer is an API 3.0
// envelope.

import http from 'node:http';
import https from 'node:https';
import { AgentResponseEnvelope } from '../tat/agent-protocol.js';

// One keep-alive pool per process and trusted CA, shared by every identity of a fleet.
const httpPool = new http.Agent({ keepAlive: true });
const httpsPools = new Map<string, https.Agent>();

function poolFor(url: URL, ca: Buffer | undefined): http.Agent {
  if (url.protocol !== 'https:') return httpPool;
  const key = ca?.toString('utf8') ?? '';
  let pool = httpsPools.get(key);
  if (!pool) {
    pool = new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
    httpsPools.set(key, pool);
  }
  return pool;
}

function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  localAddress: string | undefined,
  ca: Buffer | undefined,
) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        agent: poolFor(url, ca),
        timeout: timeoutMs,
        // The pool keeps connections apart per local address.
        ...(localAddress ? { localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Why a call failed: no answer, a refusal (final), a failure on tatd's side, or a throttle
 * (RequestLimitExceeded: too many calls or connections for now).
 */
export type CallFailure = 'transport' | 'refused' | 'internal' | 'throttled';

export class AgentCallError extends Error {
  constructor(
    readonly kind: CallFailure,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }

  /** Worth another try: the server was unreachable, failed on its side, or asked to slow down. */
  get retryable(): boolean {
    return this.kind !== 'refused';
  }
}

export interface InvokeClientOptions {
  /** Per attempt; the reference agent waits 10 s. */
  timeoutMs?: number;
  /** Local address to send from (a multi-homed host); default: the one the OS picks. */
  localAddress?: string;
  /** CA certificates (PEM) to trust for https:// instead of the system's (`--ca-file`). */
  ca?: Buffer;
}

export class InvokeClient {
  private readonly url: URL;
  private readonly headers: () => Record<string, string>;
  /** The CA certificates trusted for https://, when not the system's (the output upload uses them too). */
  readonly ca: Buffer | undefined;

  /** `headers` is called for every attempt: a registered agent signs each one afresh. */
  constructor(
    url: string,
    headers: Record<string, string> | (() => Record<string, string>),
    private readonly options: InvokeClientOptions = {},
  ) {
    this.url = new URL(url);
    this.headers = typeof headers === 'function' ? headers : () => headers;
    this.ca = options.ca;
  }

  async call(action: string, fields: object = {}): Promise<Record<string, unknown>> {
    let res: { status: number; text: string };
    try {
      res = await post(
        this.url,
        this.headers(),
        JSON.stringify({ Action: action, ...fields }),
        this.options.timeoutMs ?? 10_000,
        this.options.localAddress,
        this.options.ca,
      );
    } catch (e) {
      throw new AgentCallError('transport', `${action}: ${(e as Error).message}`);
    }
    let parsed;
    try {
      parsed = AgentResponseEnvelope.safeParse(JSON.parse(res.text));
    } catch {
      parsed = undefined;
    }
    // The reference agent ignores HTTP status codes and reads the body; a body that is no
    // envelope means something in between failed (a proxy, a restarting server).
    if (!parsed?.success)
      throw new AgentCallError(
        'internal',
        `${action}: unexpected answer (HTTP ${res.status}): ${res.text.slice(0, 200)}`,
      );
    const { Error: err, ...rest } = parsed.data.Response;
    if (err) {
      const kind: CallFailure =
        err.Code === 'InternalError'
          ? 'internal'
          : err.Code === 'RequestLimitExceeded'
            ? 'throttled'
            : 'refused';
      throw new AgentCallError(kind, `${action}: ${err.Code}: ${err.Message}`, err.Code);
    }
    return rest;
  }

  /**
   * Like the reference agent: `attempts` tries, 500 ms apart, on transport errors only. (The
   * reference agent repeats its first headers; this one signs every attempt afresh.)
   */
  async callWithRetry(action: string, fields: object, attempts: number): Promise<Record<string, unknown>> {
    for (let i = 1; ; i++) {
      try {
        return await this.call(action, fields);
      } catch (e) {
        if (i >= attempts || !(e instanceof AgentCallError) || e.kind !== 'transport') throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
