// Invokers' moving parts in tatd, started only once an invoker exists: at start-up when the store
// has one, or when the first is created. A tatd without invokers never starts or contacts
// Temporal. Then: the link to Temporal (./temporal.ts), the reconciler (./reconciler.ts), the
// worker (./worker.ts), and the missed-fire bookkeeping (./missed.ts), each stopped by stop().

import { installTemporalLogger } from '../../temporal/logging.js';
import type { ServerContext } from '../context.js';
import { recordMissedFires } from './missed.js';
import { Reconciler, type Scope } from './reconciler.js';
import { TemporalLink } from './temporal.js';
import { InvokerWorker } from './worker.js';

/** What the API needs: to say that an invoker changed (after its transaction committed). */
export interface InvokerRuntime {
  changed(scope: Scope, id: string): void;
}

interface Parts {
  link: TemporalLink;
  reconciler: Reconciler;
  worker: InvokerWorker;
  timer: NodeJS.Timeout;
}

export class InvokerService implements InvokerRuntime {
  private parts: Parts | undefined;
  private missedPass: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly startedAt = Date.now();

  /** `server` is read when the first invoker needs it (tatd's context holds this service). */
  constructor(private readonly server: () => ServerContext) {}

  /** Starts the parts if the store has an invoker. */
  async start(): Promise<void> {
    const any = await this.server().db.selectFrom('invokers').select('id').limit(1).executeTakeFirst();
    if (any) this.activate();
  }

  changed(scope: Scope, id: string): void {
    this.activate()?.reconciler.changed(scope, id);
  }

  private activate(): Parts | undefined {
    if (this.stopped) return undefined;
    if (this.parts) return this.parts;
    const server = this.server();
    const log = server.log.child({ component: 'invokers' });
    // The SDK's own lines as JSON; its per-second retry warnings during an outage are left out
    // (the link logs an outage once), and tatd stops its worker itself on SIGTERM.
    installTemporalLogger(server.log.child({ component: 'temporal-sdk' }), {
      quietRetries: true,
      shutdownSignals: [],
    });
    const ctx = { ...server, log };
    const link = new TemporalLink(server.config, log);
    const reconciler = new Reconciler(ctx, link);
    const worker = new InvokerWorker(ctx, link, this.startedAt);
    const timer = setInterval(() => this.recordMissed(), server.config.timings.invokerHealIntervalMs);
    timer.unref();
    this.parts = { link, reconciler, worker, timer };
    log.info(
      { temporal: server.config.temporalAddress ?? 'own dev server', namespace: link.namespace },
      'invokers: connecting to Temporal',
    );
    link.start(() => {
      reconciler.healSoon();
      this.recordMissed();
    });
    reconciler.start();
    worker.start();
    this.recordMissed();
    return this.parts;
  }

  /** One pass of the missed-fire bookkeeping, unless one is running. */
  private recordMissed(): void {
    const server = this.server();
    this.missedPass = this.missedPass.then(() =>
      recordMissedFires(server).then(
        () => undefined,
        (err: unknown) => server.log.error({ err }, 'recording missed invoker fires failed'),
      ),
    );
  }

  /**
   * Stops every part, each within a bound: tatd's whole stop is bounded (client/shutdown.ts), and
   * a call to an unreachable Temporal must not hold it up. What is cut short is redone later: the
   * reconciler heals at the next start, a fire's activity is retried by Temporal.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const p = this.parts;
    if (!p) return;
    clearInterval(p.timer);
    const log = this.server().log;
    const bounded = (what: string, ms: number, done: Promise<void>) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          log.warn({ ms }, `${what} did not stop in time; going on`);
          resolve();
        }, ms);
        void done
          .catch((err: unknown) => log.error({ err }, `stopping ${what} failed`))
          .finally(() => {
            clearTimeout(t);
            resolve();
          });
      });
    await bounded('the invoker reconciler', 2_000, p.reconciler.stop());
    await bounded('the invoker worker', 6_000, p.worker.stop());
    await this.missedPass;
    await bounded('the Temporal link', 6_000, p.link.stop());
  }
}
