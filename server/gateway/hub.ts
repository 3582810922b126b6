// Live agent connections. An agent is Online while its WebSocket is open (design decision); the
// socket is used only to kick the agent, which then fetches its tasks over HTTP.

import type { Logger } from 'pino';
import type { WebSocket } from 'ws';

interface Link {
  ws: WebSocket;
  lastSeen: number;
}

export type PresenceListener = (instanceId: string, online: boolean) => void;

export class AgentHub {
  private readonly links = new Map<string, Link>();
  private readonly heartbeats = new Map<string, number>();
  private readonly listeners: PresenceListener[] = [];
  private readonly idleTimer: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    idleMs: number,
  ) {
    // Sockets that went silent (no ping for 3 intervals) are dropped, like the agent itself does.
    this.idleTimer = setInterval(() => this.dropIdle(idleMs), Math.min(idleMs, 30_000));
    this.idleTimer.unref();
  }

  onPresence(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  isOnline(instanceId: string): boolean {
    return this.links.has(instanceId);
  }

  lastHeartbeat(instanceId: string): number | undefined {
    return this.heartbeats.get(instanceId);
  }

  /** Any sign of life from an agent (a ping, an HTTP call). */
  touch(instanceId: string): void {
    const t = this.now();
    this.heartbeats.set(instanceId, t);
    const link = this.links.get(instanceId);
    if (link) link.lastSeen = t;
  }

  attach(instanceId: string, ws: WebSocket): void {
    if (this.closing) {
      // Identified while tatd was stopping: turned away like the others.
      ws.close(1001, 'tatd is stopping');
      return;
    }
    const previous = this.links.get(instanceId);
    this.links.set(instanceId, { ws, lastSeen: this.now() });
    this.touch(instanceId);
    if (previous) {
      // The agent reconnected before its old socket closed: the new one wins.
      previous.ws.terminate();
    }
    ws.on('ping', () => this.touch(instanceId));
    ws.on('pong', () => this.touch(instanceId));
    ws.on('message', () => this.touch(instanceId));
    ws.on('close', () => {
      if (this.links.get(instanceId)?.ws !== ws) return;
      this.links.delete(instanceId);
      this.log.info({ instanceId }, 'agent offline');
      this.emit(instanceId, false);
    });
    ws.on('error', (err) => this.log.warn({ instanceId, err }, 'agent socket error'));
    this.log.info({ instanceId }, 'agent online');
    this.emit(instanceId, true);
  }

  /** Cuts the agent off (its instance was deleted): closes its connection, forgets its heartbeat. */
  disconnect(instanceId: string): void {
    this.links.get(instanceId)?.ws.terminate();
    this.heartbeats.delete(instanceId);
  }

  /** Wakes the agent so it calls DescribeTasks. Returns false when it is not connected. */
  kick(instanceId: string, taskId: string): boolean {
    const link = this.links.get(instanceId);
    if (!link) return false;
    link.ws.send(JSON.stringify({ Type: 'kick', Seq: 0, Data: { InvocationTaskID: taskId } }));
    return true;
  }

  private emit(instanceId: string, online: boolean): void {
    for (const l of this.listeners) {
      try {
        l(instanceId, online);
      } catch (err) {
        this.log.error({ err, instanceId }, 'presence listener failed');
      }
    }
  }

  private dropIdle(idleMs: number): void {
    const limit = this.now() - idleMs;
    for (const [id, link] of this.links)
      if (link.lastSeen < limit) {
        this.log.warn({ instanceId: id }, 'agent silent for too long; closing its socket');
        link.ws.terminate();
      }
  }

  /**
   * Closes every agent socket (tatd is stopping): a close frame first ("going away", so an agent
   * reconnects at once instead of noticing at its next ping), then, after `graceMs`, the sockets
   * still open are destroyed. Resolves when every socket is closed. Stops the idle sweep.
   */
  async closeAll(graceMs = 1000): Promise<void> {
    this.closing = true;
    clearInterval(this.idleTimer);
    const sockets = [...this.links.values()].map((l) => l.ws);
    this.links.clear();
    const closed = sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1001, 'tatd is stopping');
        }),
    );
    const timer = setTimeout(() => {
      for (const ws of sockets) ws.terminate();
    }, graceMs);
    await Promise.all(closed);
    clearTimeout(timer);
  }
}
