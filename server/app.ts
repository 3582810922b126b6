// tatd: one listener for the public API (`/`), the agent HTTP endpoint and the agent WebSocket.

import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { registerApi } from './api/endpoint.js';
import { errorBody, sendJson } from './api/envelope.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { AgentHub } from './gateway/hub.js';
import { AgentDirectory } from './gateway/identity.js';
import { registerAgentInvoke } from './gateway/invoke.js';
import { registerAgentSocket } from './gateway/ws.js';
import { openSqliteStore } from './store/db.js';
import { waitForAgent, onPresence } from './tasks/lifecycle.js';
import { extendRunDeadlines, startSweeper } from './tasks/sweeper.js';
import { startRetention } from './tasks/retention.js';
import { ObjectStore } from './cos/store.js';
import { registerObjectStore } from './cos/routes.js';
import { InvokerService } from './invokers/service.js';

/** How long a stop waits for API and agent requests in flight before it cuts their connections. */
export const STOP_GRACE_MS = 5000;

export interface RunningTatd {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTatd(config: ServerConfig, logger?: Logger): Promise<RunningTatd> {
  const log = logger ?? pino({ level: config.logLevel, base: { service: 'tatd' } });
  const store = await openSqliteStore(config.data);
  const now = () => Date.now();
  const invokers = new InvokerService(() => server);
  const server: ServerContext = {
    config,
    db: store.db,
    log,
    now,
    hub: new AgentHub(log, now, config.timings.agentIdleMs),
    cos: new ObjectStore(config.data, config.cos),
    invokers,
  };
  // Nothing is connected yet after a (re)start.
  await waitForAgent(server);
  await extendRunDeadlines(server);

  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One log line per API call is written by the endpoint itself, with action and account.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: 10 * 1024 * 1024,
    // Behind a load balancer, an agent's address (checked against IpAddressRange) is the one
    // the trusted proxies name in X-Forwarded-For.
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
  });
  // Raw bytes for every content type: TC3 hashes the exact body, and the agent sends JSON with
  // no Content-Type at all.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Failures before a route runs (a body over the size limit, a broken stream) still answer in
  // the API 3.0 envelope with HTTP 200, as clients only read the envelope.
  app.setErrorHandler((err: { code?: string; message: string }, req, reply) => {
    const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    if (!tooLarge) req.log.warn({ err }, 'request failed before reaching an action');
    return sendJson(
      reply,
      errorBody(
        tooLarge ? 'RequestSizeLimitExceeded' : 'InvalidRequest',
        tooLarge ? 'The request body is larger than 10 MB.' : `The request could not be read: ${err.message}`,
        req.id,
      ),
    );
  });

  const directory = new AgentDirectory(server);
  registerApi(app, server);
  registerAgentInvoke(app, server, directory);
  registerAgentSocket(app, server, directory);
  registerObjectStore(app, server);
  server.hub.onPresence((instanceId, online) => {
    onPresence(server, instanceId, online).catch((err: unknown) =>
      log.error({ err, instanceId }, 'delivering on presence change failed'),
    );
  });
  const stopSweeper = startSweeper(server);
  const stopRetention = startRetention(server);

  const [host, portText] = config.listen.split(/:(?=\d+$)/) as [string, string];
  try {
    await app.listen({ host, port: Number(portText) });
  } catch (e) {
    stopSweeper();
    directory.stop();
    await invokers.stop();
    await stopRetention();
    await store.close();
    throw new Error(
      `cannot listen on ${config.listen}: ${(e as Error).message} (choose another with --listen)`,
      {
        cause: e,
      },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : Number(portText);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Temporal only when an invoker exists; tatd answers meanwhile (the database is the truth).
  await invokers.start();
  log.info({ url, data: config.data, openEnrollment: config.openEnrollment }, 'tatd listening');
  return {
    url,
    port,
    close: async () => {
      // First: fires being handled finish while the store and the agent hub are still there.
      await invokers.stop();
      stopSweeper();
      directory.stop();
      await stopRetention();
      // app.close() closes the agents' sockets first (gateway/ws.ts), lets requests in flight
      // finish and closes idle keep-alive connections; a request still running after the grace
      // has its connection destroyed, so a stop takes at most STOP_GRACE_MS plus a second.
      const force = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
      await store.close();
    },
  };
}
