// `GET /agent/ws`: the agent's notify WebSocket. It carries only kicks from us; the agent's pings
// are answered by the ws library. Unknown machines and bad signatures are refused at the upgrade.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { ServerContext } from '../context.js';
import { IdentityError, type AgentDirectory } from './identity.js';
import type { ConnectionGuard } from '../guard/connections.js';
import { clientAddress } from './addresses.js';

export const AGENT_WS_PATH = '/agent/ws';

export function registerAgentSocket(
  app: FastifyInstance,
  server: ServerContext,
  directory: AgentDirectory,
  connections: ConnectionGuard,
): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  const refuse = (socket: Duplex, status: number, reason: string) => {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== AGENT_WS_PATH) return refuse(socket, 404, 'Not Found');
    const address = clientAddress(req, server.config.trustedProxies);
    try {
      server.limits.checkAddress(address);
    } catch (e) {
      server.log.warn({ reason: (e as Error).message, peer: address }, 'agent refused');
      return refuse(socket, 429, 'Too Many Requests');
    }
    directory.identify(req.headers, { kind: 'ws' }).then(
      (identity) => {
        const full = connections.upgrade(socket);
        if (full !== undefined) {
          server.log.warn({ instanceId: identity.instanceId, reason: full }, 'agent connection refused');
          return refuse(socket, 503, 'Service Unavailable');
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          server.hub.attach(identity.instanceId, ws);
          ws.on('close', () => {
            directory
              .recordDisconnect(
                identity.instanceId,
                server.hub.lastHeartbeat(identity.instanceId) ?? server.now(),
              )
              .catch((err: unknown) => server.log.error({ err }, 'recording agent disconnect failed'));
          });
          directory
            .recordConnect(identity, req.headers)
            .catch((err: unknown) => server.log.error({ err }, 'recording agent connect failed'));
        });
      },
      (err: unknown) => {
        if (err instanceof IdentityError) {
          server.limits.authFailed(address);
          server.log.warn(
            { reason: err.message, code: err.code, peer: req.socket.remoteAddress },
            'agent refused',
          );
          refuse(socket, 401, 'Unauthorized');
        } else {
          server.log.error({ err }, 'agent identification failed');
          refuse(socket, 500, 'Internal Server Error');
        }
      },
    );
  };

  app.server.on('upgrade', onUpgrade);
  // Before the listener closes: Node's server.close() waits for every connection it accepted,
  // upgraded ones included, so the agents' sockets must be closed first or tatd would keep them
  // (and answer their pings) for as long as they stay connected.
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    await server.hub.closeAll();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}
