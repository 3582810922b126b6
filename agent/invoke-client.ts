// The agent's HTTP "invoke" calls (agent-protocol.md §3.1): `POST <invoke_url>` with
// `{"Action": ..., <fields>}` and the identity headers; the answer is an API 3.0 envelope.

import { AgentResponseEnvelope } from '../tat/agent-protocol.js';

export type CallFailure = 'transport' | 'refused' | 'internal';

export class AgentCallError extends Error {
  constructor(
    readonly kind: CallFailure,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }

  /** Worth another try: the server was unreachable or failed on its side. */
  get retryable(): boolean {
    return this.kind !== 'refused';
  }
}

export class InvokeClient {
  constructor(
    private readonly url: string,
    private readonly headers: () => Record<string, string>,
    private readonly timeoutMs = 10_000,
  ) {}

  async call(action: string, fields: object = {}): Promise<Record<string, unknown>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify({ Action: action, ...fields }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw new AgentCallError('transport', `${action}: ${(e as Error).message}`);
    }
    let parsed;
    try {
      parsed = AgentResponseEnvelope.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    // The reference agent ignores HTTP status codes and reads the body; a body that is no
    // envelope means something in between failed (a proxy, a restarting server).
    if (!parsed?.success)
      throw new AgentCallError(
        'internal',
        `${action}: unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}`,
      );
    const { Error: err, ...rest } = parsed.data.Response;
    if (err) {
      const kind = err.Code === 'InternalError' ? 'internal' : 'refused';
      throw new AgentCallError(kind, `${action}: ${err.Code}: ${err.Message}`, err.Code);
    }
    return rest;
  }

  /** Like the reference agent: `attempts` tries, 500 ms apart, on transport errors only. */
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
