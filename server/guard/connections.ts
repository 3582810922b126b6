// Slow and idle clients (`connections` in the configuration). Node's HTTP server checks the
// header and whole-request deadlines every `checkIntervalMs`; a connection with no traffic at all
// is closed after `idleTimeoutMs` (fastify's connectionTimeout), a kept-alive one waits
// `keepAliveTimeoutMs` for its next request. Without these, sockets that send headers and then
// nothing stay open for minutes and use up the file descriptors.
//
// At most `maxHttp` HTTP connections are served at once; a request on one more is answered with a
// RequestLimitExceeded envelope (the object store: 503 SlowDown) and its connection closed. An agent's WebSocket leaves that count
// when its upgrade is accepted and counts against `maxAgentSockets` instead, so a flood of HTTP
// clients never pushes connected agents out, and agents never starve the API.

import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config.js';

type Limits = ServerConfig['connections'];

/** Options of node's HTTP(S) server for these limits (fastify's `http` / `https`). */
export function serverTimeouts(c: Limits) {
  return {
    headersTimeout: c.headersTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    keepAliveTimeout: c.keepAliveTimeoutMs,
    connectionsCheckingInterval: c.checkIntervalMs,
  };
}

/** fastify's own names for the same limits (it sets them on the server it creates). */
export function fastifyTimeouts(c: Limits) {
  return {
    connectionTimeout: c.idleTimeoutMs,
    keepAliveTimeout: c.keepAliveTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
  };
}

const refusalBody = (what: string, limit: number, requestId: string) =>
  JSON.stringify({
    Response: {
      Error: {
        Code: 'RequestLimitExceeded',
        Message: `tatd serves at most ${limit} ${what} at once; retry shortly.`,
      },
      RequestId: requestId,
    },
  });

/** The process's soft limit of open files (Linux), undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class ConnectionGuard {
  private readonly http = new Set<Duplex>();
  /** Connections beyond `maxHttp`: each request on them is refused, then they are closed. */
  private readonly over = new WeakSet<Duplex>();
  private agents = 0;

  constructor(private readonly limits: Limits) {}

  /** Starts counting the connections of `app`'s server (`secure`: once TLS is set up). */
  attach(app: FastifyInstance, secure: boolean): void {
    const server = app.server;
    // Raw connections (a TLS handshake in progress included) are capped by node as a backstop.
    server.maxConnections = this.limits.maxHttp + this.limits.maxAgentSockets + 100;
    // The caps protect the file descriptors only if they fit in them.
    const files = openFileLimit();
    if (files !== undefined && files < server.maxConnections)
      app.log.warn(
        { openFileLimit: files, maxHttp: this.limits.maxHttp, maxAgentSockets: this.limits.maxAgentSockets },
        'the open-file limit is below connections.maxHttp + maxAgentSockets + 100: raise it (ulimit -n, LimitNOFILE) or lower them, else connections fail before the caps apply',
      );
    server.on(secure ? 'secureConnection' : 'connection', (socket: Duplex) => {
      if (this.http.size >= this.limits.maxHttp) {
        this.over.add(socket);
        return;
      }
      this.http.add(socket);
      socket.once('close', () => this.http.delete(socket));
    });
    app.addHook('onRequest', (req, reply, done) => {
      if (!this.over.has(req.raw.socket)) return done();
      void reply.header('connection', 'close');
      // The object store answers as COS does (an uploader must not take it for success); the API
      // and the agent endpoint in their envelope, whose clients read only the body.
      if (req.url.startsWith('/cos/'))
        void reply
          .code(503)
          .header('content-type', 'application/xml')
          .send(
            `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>tatd serves at most ${this.limits.maxHttp} HTTP connections at once; retry shortly.</Message></Error>\n`,
          );
      else
        void reply
          .code(200)
          .header('content-type', 'application/json')
          .send(Buffer.from(refusalBody('HTTP connections', this.limits.maxHttp, req.id)));
    });
  }

  /** HTTP connections open now, and agents' WebSockets. */
  get counts(): { http: number; agents: number } {
    return { http: this.http.size, agents: this.agents };
  }

  /**
   * An agent's WebSocket upgrade about to be accepted: it moves from the HTTP count to the agents'
   * count. Undefined when it may go on, else why not (the caller answers 503 and closes).
   */
  upgrade(socket: Duplex): string | undefined {
    if (this.over.has(socket)) return `more than ${this.limits.maxHttp} HTTP connections`;
    if (this.agents >= this.limits.maxAgentSockets)
      return `more than ${this.limits.maxAgentSockets} agent connections`;
    this.http.delete(socket);
    this.agents++;
    socket.once('close', () => this.agents--);
    return undefined;
  }
}
