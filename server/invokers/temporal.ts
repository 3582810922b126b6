// tatd's way to Temporal: the configured `temporalAddress`, or else a Temporal dev server of its
// own (the pinned CLI, state in `<data>/temporal/`), started the first time an invoker needs it
// and stopped with tatd (or, should tatd be killed, by the launcher's watcher). A probe follows
// the connection: an outage is logged once when it starts and once when it ends, never per call,
// and its end wakes whoever waits (the reconciler heals drift then).

import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import {
  findTemporalCli,
  freePort,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../temporal/dev-server.js';
import type { ServerConfig } from '../config.js';

const PROBE_UP_MS = 10_000;
const PROBE_DOWN_MAX_MS = 15_000;
/** Every call to Temporal gives up after this (the SDK would otherwise retry for a long time). */
export const CALL_DEADLINE_MS = 10_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class TemporalLink {
  readonly namespace: string;
  private connection: Connection | undefined;
  private native: NativeConnection | undefined;
  private owned: TemporalDevServer | undefined;
  private ownedPort: number | undefined;
  private starting: Promise<string> | undefined;
  private state: 'new' | 'up' | 'down' = 'new';
  private downSince = 0;
  /** When Temporal last answered after being down: a call begun before then says nothing new. */
  private upSince = 0;
  private readonly onUp: (() => void)[] = [];
  private readonly stopping = new AbortController();
  private probing: Promise<void> | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.namespace = config.temporalNamespace;
  }

  /** `whenUp` runs each time Temporal answers again after an outage (and when first reached). */
  start(whenUp: () => void): void {
    this.onUp.push(whenUp);
    this.probing ??= this.probe();
  }

  /** The connection for the worker inside tatd. */
  async nativeConnection(): Promise<NativeConnection> {
    if (this.native) return this.native;
    const address = await this.address();
    this.native = await NativeConnection.connect({ address });
    return this.native;
  }

  /** Runs `call` with the call deadline; a failure marks Temporal down. */
  async call<T>(fn: (connection: Connection) => Promise<T>): Promise<T> {
    const began = Date.now();
    const connection = await this.clientConnection();
    try {
      return await connection.withDeadline(began + CALL_DEADLINE_MS, () => fn(connection));
    } catch (e) {
      // A call that was waiting while Temporal came back fails late; the probe knows better.
      if (isUnavailable(e) && began >= this.upSince) this.markDown(e);
      throw e;
    }
  }

  isUp(): boolean {
    return this.state === 'up';
  }

  markDown(e: unknown): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.downSince = Date.now();
    this.log.warn(
      { address: this.describeAddress(), err: message(e) },
      'Temporal unreachable: invoker actions still commit and answer from the database; Schedules are brought in line when it is back, and fires it misses beyond the catch-up window are recorded as skipped',
    );
  }

  private markUp(): void {
    if (this.state === 'up') return;
    if (this.state === 'down')
      this.log.info(
        { address: this.describeAddress(), downForMs: Date.now() - this.downSince },
        'Temporal reachable again',
      );
    else
      this.log.info({ address: this.describeAddress(), namespace: this.namespace }, 'connected to Temporal');
    this.state = 'up';
    this.upSince = Date.now();
    for (const f of this.onUp) f();
  }

  private describeAddress(): string {
    return (
      this.config.temporalAddress ??
      `own dev server${this.ownedPort ? ` on 127.0.0.1:${this.ownedPort}` : ''}`
    );
  }

  private async clientConnection(): Promise<Connection> {
    if (this.connection) return this.connection;
    try {
      const address = await this.address();
      this.connection = await Connection.connect({ address, connectTimeout: 5_000 });
      return this.connection;
    } catch (e) {
      this.markDown(e);
      throw e;
    }
  }

  /** The configured address, or that of the dev server of tatd's own (started once, restarted if it died). */
  private address(): Promise<string> {
    if (this.config.temporalAddress) return Promise.resolve(this.config.temporalAddress);
    if (this.owned?.running()) return Promise.resolve(this.owned.address);
    this.starting ??= this.startOwn().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async startOwn(): Promise<string> {
    if (this.stopping.signal.aborted) throw new Error('tatd is stopping');
    const dir = join(this.config.data, 'temporal');
    const cli = await findTemporalCli();
    // The same port after a restart of the server, so open connections find it again.
    this.ownedPort ??= await freePort();
    this.log.info({ dir, port: this.ownedPort }, 'starting a Temporal dev server for invokers');
    const started = performance.now();
    this.owned = await startTemporalDevServer({
      cli,
      port: this.ownedPort,
      headless: true,
      dbFile: join(dir, 'temporal.sqlite'),
      ...(this.namespace !== 'default' ? { namespace: this.namespace } : {}),
      exitWithParent: true,
      onLine: (line) => {
        if (line.trim()) this.log.info({ temporal: line.slice(0, 2000) }, 'Temporal dev server');
      },
    });
    this.log.info(
      { address: this.owned.address, pid: this.owned.pid, ms: Math.round(performance.now() - started) },
      'Temporal dev server started',
    );
    return this.owned.address;
  }

  /** Asks Temporal every few seconds (more often while it is down) whether it answers. */
  private async probe(): Promise<void> {
    let downWait = 1_000;
    while (!this.stopping.signal.aborted) {
      try {
        await this.call((c) => c.workflowService.getSystemInfo({}));
        this.markUp();
        downWait = 1_000;
        await sleep(PROBE_UP_MS, this.stopping.signal);
      } catch (e) {
        this.markDown(e);
        if (this.owned && !this.owned.running() && !this.stopping.signal.aborted) {
          this.log.warn('the Temporal dev server of tatd exited; starting it again');
          await this.address().catch((err: unknown) =>
            this.log.error({ err: message(err) }, 'the Temporal dev server did not start again'),
          );
        }
        await sleep(downWait, this.stopping.signal);
        downWait = Math.min(downWait * 2, PROBE_DOWN_MAX_MS);
      }
    }
  }

  /** Stops probing, closes the connections, and stops the dev server of tatd's own. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.probing;
    await this.starting?.catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await this.native?.close().catch(() => undefined);
    if (this.owned) {
      await this.owned.stop();
      this.log.info('Temporal dev server stopped');
    }
  }
}

/** A gRPC failure that means "cannot reach the server" rather than "the server said no". */
export function isUnavailable(e: unknown): boolean {
  const code =
    (e as { code?: unknown; cause?: { code?: unknown } }).code ??
    (e as { cause?: { code?: unknown } }).cause?.code;
  // 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, 1 CANCELLED (a closed channel).
  return (
    code === 14 ||
    code === 4 ||
    code === 1 ||
    (e instanceof Error && /connect|unavailable|deadline/i.test(e.message))
  );
}
