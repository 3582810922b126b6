// tatd: one listener for the public API (`/`), the agent HTTP endpoint, the agent WebSocket and
// the object store; over TLS when `tls` is configured (required off loopback, see config.ts).

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { registerApi } from './api/endpoint.js';
import { errorBody, sendJson } from './api/envelope.js';
import { frameworkError, notFound } from './api/fallbacks.js';
import { isLoopbackHost, listenHost, type ServerConfig } from './config.js';
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
import { RateLimits } from './guard/rate.js';
import { ConnectionGuard, fastifyTimeouts, serverTimeouts } from './guard/connections.js';
import { InvokerService } from './invokers/service.js';

/** How long a stop waits for API and agent requests in flight before it cuts their connections. */
export const STOP_GRACE_MS = 5000;

export interface RunningTatd {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read the TLS ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Node's server options: TLS (certificate and key read now) and the connection deadlines. */
function listenerOptions(config: ServerConfig) {
  const timeouts = serverTimeouts(config.connections);
  if (!config.tls) return { http: timeouts };
  return {
    https: {
      cert: readPem(config.tls.cert, 'certificate'),
      key: readPem(config.tls.key, 'key'),
      // A TLS handshake is held to the header deadline too.
      handshakeTimeout: config.connections.headersTimeoutMs,
      ...timeouts,
    },
  };
}

export async function startTatd(config: ServerConfig, logger?: Logger): Promise<RunningTatd> {
  const log = logger ?? pino({ level: config.logLevel, base: { service: 'tatd' } });
  const listener = listenerOptions(config);
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
    limits: new RateLimits(config.rateLimit, now),
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
    bodyLimit: config.connections.apiBodyBytes,
    ...listener,
    ...fastifyTimeouts(config.connections),
    frameworkErrors: frameworkError,
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
        tooLarge
          ? `The request body is larger than ${req.routeOptions.bodyLimit ?? config.connections.apiBodyBytes} bytes.`
          : `The request could not be read: ${err.message}`,
        req.id,
      ),
    );
  });

  app.setNotFoundHandler(notFound);

  const directory = new AgentDirectory(server);
  const connections = new ConnectionGuard(config.connections);
  connections.attach(app, config.tls !== undefined);
  registerApi(app, server);
  registerAgentInvoke(app, server, directory);
  registerAgentSocket(app, server, directory, connections);
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
  const url = `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!config.tls && !isLoopbackHost(listenHost(config.listen)))
    log.warn(
      { listen: config.listen },
      'insecureHttp: serving without TLS off loopback; API keys, agent traffic and task output travel in clear text',
    );
  // Temporal only when an invoker exists; tatd answers meanwhile (the database is the truth).
  await invokers.start();
  log.info(
    { url, data: config.data, openEnrollment: config.openEnrollment, tls: config.tls !== undefined },
    'tatd listening',
  );
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
