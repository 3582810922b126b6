// `POST /agent/invoke`: the agent's HTTP actions (docs/agent-protocol-reference.md, "HTTP calls").
// The body is JSON whatever the content type (the reference agent sends none); HTTP status is
// always 200.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AGENT_ACTIONS,
  AgentRequests,
  type AgentAction,
  type AgentRequest,
} from '../../tat/agent-protocol.js';
import type { ServerContext } from '../context.js';
import { errorBody, sendJson, successBody } from '../api/envelope.js';
import {
  reportFinish,
  reportStart,
  storeOutputChunk,
  tasksForAgent,
  type ReportOutcome,
} from '../tasks/lifecycle.js';
import { headerValue } from '../../tat/node/signing.js';
import { registerInstance, validateInstance } from '../resources/registration.js';
import { normalizeAddress } from './addresses.js';
import { IdentityError, type AgentDirectory, type AgentIdentity } from './identity.js';
import { cosCredential } from '../cos/output.js';
import { isTatError } from '../../tat/errors.js';

/** Refusals that mean "you are not who you claim", counted per address by the rate limits. */
const isAuthFailure = (code: string) =>
  code.startsWith('AuthFailure') || code === 'ResourceNotFound.RegisterCodesNotFoundCode';

class AgentCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function outcome(o: ReportOutcome): object {
  if (!o.ok) throw new AgentCallError(o.code, o.message);
  return {};
}

export function registerAgentInvoke(
  app: FastifyInstance,
  server: ServerContext,
  directory: AgentDirectory,
): void {
  const handle = async (req: FastifyRequest): Promise<string> => {
    const requestId = req.id;
    let action = '';
    let identity: AgentIdentity | undefined;
    let answer: string;
    const address = normalizeAddress(req.ip);
    try {
      server.limits.checkAddress(address);
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw new AgentCallError('InvalidParameter', 'the request body is not JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new AgentCallError('InvalidParameter', 'the request body must be a JSON object with an Action');
      action = typeof body.Action === 'string' ? body.Action : '';
      if (!(AGENT_ACTIONS as readonly string[]).includes(action))
        throw new AgentCallError('InvalidAction', `unknown agent action "${action}"`);
      const parse = <A extends AgentAction>(a: A): AgentRequest<A> => {
        const parsed = AgentRequests[a].safeParse(body);
        if (parsed.success) return parsed.data as AgentRequest<A>;
        const i = parsed.error.issues[0]!;
        throw new AgentCallError('InvalidParameter', `${a}: ${i.path.join('.')}: ${i.message}`);
      };
      // Registration comes before the agent has an identity: the code is its credential.
      if (action === 'RegisterInstance') {
        server.limits.registration(address);
        const result = await registerInstance(server, parse('RegisterInstance'), {
          address,
          agentVersion: headerValue(req.headers, 'tat-version') ?? '',
        });
        return successBody(result, requestId);
      }
      identity = await directory.identify(req.headers, { kind: 'http', body: raw });
      if (identity.repeatOf) {
        // The reference agent's retry of a call that reached us: answered again, not run again.
        const earlier = await identity.repeatOf;
        identity = undefined;
        if (earlier === undefined)
          throw new IdentityError(
            'this RandomKey was used before: a replayed request',
            'AuthFailure.SignatureFailure',
          );
        req.log.info({ action }, 'repeated agent call answered again');
        return earlier;
      }
      server.hub.touch(identity.instanceId);
      const handler = AGENT_HANDLERS[action as IdentifiedAction] as (
        s: ServerContext,
        id: string,
        p: unknown,
      ) => Promise<object>;
      const result = await handler(server, identity.instanceId, parse(action as IdentifiedAction));
      req.log.debug({ action, instanceId: identity.instanceId }, 'agent call');
      answer = successBody(result, requestId);
    } catch (e) {
      if (e instanceof AgentCallError || e instanceof IdentityError || isTatError(e)) {
        if (isAuthFailure(e.code)) server.limits.authFailed(address);
        req.log.info({ action, code: e.code, reason: e.message, peer: req.ip }, 'agent call refused');
        answer = errorBody(e.code, e.message, requestId);
      } else {
        req.log.error({ err: e, action }, 'agent call failed');
        answer = errorBody('InternalError', `internal error, request id ${requestId}`, requestId);
      }
    }
    identity?.answered?.(answer);
    return answer;
  };
  app.post('/agent/invoke', { bodyLimit: server.config.connections.agentBodyBytes }, async (req, reply) =>
    sendJson(reply, await handle(req)),
  );
}

/** Every action but RegisterInstance is made by an agent that already has an identity. */
type IdentifiedAction = Exclude<AgentAction, 'RegisterInstance'>;

type AgentHandlers = {
  [A in IdentifiedAction]: (server: ServerContext, instanceId: string, p: AgentRequest<A>) => Promise<object>;
};

const AGENT_HANDLERS: AgentHandlers = {
  DescribeTasks: async (server, instanceId) => {
    const { normal, cancel } = await tasksForAgent(server, instanceId);
    return {
      InvocationNormalTaskSet: normal,
      InvocationCancelTaskSet: cancel.map((InvocationTaskId) => ({ InvocationTaskId })),
    };
  },
  ReportTaskStart: async (server, instanceId, p) =>
    outcome(await reportStart(server, instanceId, p.InvocationTaskId, p.TimeStamp)),
  UploadTaskLog: async (server, instanceId, p) =>
    outcome(
      await storeOutputChunk(
        server,
        instanceId,
        p.InvocationTaskId,
        p.Index,
        Buffer.from(p.Output, 'base64'),
        p.Dropped,
      ),
    ),
  ReportTaskFinish: async (server, instanceId, p) =>
    outcome(
      await reportFinish(server, instanceId, p.InvocationTaskId, {
        result: p.Result,
        exitCode: p.ExitCode,
        errorInfo: p.ErrorInfo,
        agentTimestamp: p.TimeStamp,
        finalLogIndex: p.FinalLogIndex,
        outputUrl: p.OutputUrl,
        cosError: p.OutputUploadCOSErrorInfo,
      }),
    ),
  // tatd does not distribute agent updates.
  CheckUpdate: () => Promise.resolve({ NeedUpdate: false, DownloadUrl: '', Md5: '' }),
  // Written to tatd's log only: capped in size per report and in reports per minute.
  ReportAgentLog: (server, instanceId, p) => {
    server.limits.agentLogReport(instanceId);
    const max = server.config.agents.agentLogBytes;
    const info = Buffer.from(p.LogInfo, 'utf8');
    server.log.warn(
      {
        instanceId,
        agentLog: info.length > max ? info.subarray(0, max).toString('utf8') : p.LogInfo,
        ...(info.length > max ? { truncatedFrom: info.length } : {}),
        level: p.LogLevel.slice(0, 16),
        agentVersion: p.AgentVersion?.slice(0, 64),
      },
      'agent reported an error',
    );
    return Promise.resolve({});
  },
  ValidateInstance: validateInstance,
  GetCosCredential: async (server, instanceId, p) => {
    const r = await cosCredential(server, instanceId, p.InvocationTaskId);
    if (!r.ok) throw new AgentCallError(r.code, r.message);
    return r.credential;
  },
};
