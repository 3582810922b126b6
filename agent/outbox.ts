// Reports the server has not confirmed yet (UploadTaskLog, ReportTaskFinish), retried until tatd
// answers, so a task that ends while tatd is down still reports once it is back. The reference
// agent gives up after two tries; this guarantee is tatflow's own (design decisions).
//
// A report goes to disk as soon as tatd is found unreachable (and every report queued after it,
// until a send succeeds again), and when the agent stops, so unconfirmed reports survive a
// restart of the agent too. While tatd answers, reports are not written at all: the common path
// costs no disk I/O. Reports of one task go out in order.

import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AgentCallError, type InvokeClient } from './invoke-client.js';

interface Report {
  seq: number;
  taskId: string;
  action: string;
  fields: object;
  onDisk: boolean;
}

const FILE = /^(invt-[a-z0-9]+)\.(\d+)\.json$/;
const MAX_BACKOFF_MS = 10_000;

export class Outbox {
  private readonly queues = new Map<string, Report[]>();
  private seq = 0;
  private closed = false;
  /** Set when a send failed for lack of an answer, cleared by the next success. */
  private unreachable = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly dir: string,
    private readonly client: InvokeClient,
    private readonly log: Logger,
  ) {}

  /** Reads what an earlier run left unconfirmed and starts sending it. */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const found: Report[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = FILE.exec(name);
      if (!m) continue;
      try {
        const { action, fields } = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as {
          action: string;
          fields: object;
        };
        found.push({ seq: Number(m[2]), taskId: m[1]!, action, fields, onDisk: true });
      } catch (err) {
        this.log.warn({ err, file: name }, 'unreadable kept report dropped');
        this.remove(name);
      }
    }
    found.sort((a, b) => a.seq - b.seq);
    this.seq = found.length ? found[found.length - 1]!.seq : 0;
    if (found.length) this.log.info({ reports: found.length }, 're-sending reports kept from an earlier run');
    for (const r of found) this.push(r);
  }

  enqueue(taskId: string, action: string, fields: object): void {
    const r: Report = { seq: ++this.seq, taskId, action, fields, onDisk: false };
    if (this.unreachable) this.keep(r);
    this.push(r);
  }

  /** Resolves when nothing is waiting to be sent. */
  idle(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending; whatever is unconfirmed is kept on disk for the next run. */
  close(): void {
    this.closed = true;
    this.keepAll();
  }

  private fileName(r: Report): string {
    return `${r.taskId}.${String(r.seq).padStart(12, '0')}.json`;
  }

  private keep(r: Report): void {
    if (r.onDisk) return;
    try {
      writeFileSync(
        join(this.dir, this.fileName(r)),
        JSON.stringify({ action: r.action, fields: r.fields }),
        {
          mode: 0o600,
        },
      );
      r.onDisk = true;
    } catch (err) {
      this.log.error({ err, taskId: r.taskId, action: r.action }, 'could not keep a report on disk');
    }
  }

  private keepAll(): void {
    for (const q of this.queues.values()) for (const r of q) this.keep(r);
  }

  private remove(name: string): void {
    try {
      unlinkSync(join(this.dir, name));
    } catch {
      // already gone
    }
  }

  private push(r: Report): void {
    const q = this.queues.get(r.taskId);
    if (q) {
      q.push(r);
      return;
    }
    this.queues.set(r.taskId, [r]);
    this.send(r.taskId).catch((err: unknown) =>
      this.log.error({ err, taskId: r.taskId }, 'report sender failed'),
    );
  }

  private async send(taskId: string): Promise<void> {
    const q = this.queues.get(taskId)!;
    let backoff = 500;
    while (q.length > 0 && !this.closed) {
      const r = q[0]!;
      try {
        await this.client.call(r.action, r.fields);
        this.unreachable = false;
      } catch (e) {
        if (e instanceof AgentCallError && e.retryable) {
          if (!this.unreachable)
            this.log.warn({ reason: e.message }, 'tatd unreachable; keeping reports on disk');
          this.unreachable = true;
          this.keepAll();
          await new Promise((resolve) => setTimeout(resolve, backoff));
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        this.log.warn(
          { taskId, action: r.action, reason: (e as Error).message },
          'report refused by the server',
        );
      }
      backoff = 500;
      if (r.onDisk) this.remove(this.fileName(r));
      q.shift();
    }
    if (this.closed) return;
    this.queues.delete(taskId);
    if (this.queues.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
