// `POST /agent/invoke`: the agent's HTTP actions (agent-protocol.md §3, checklist §8.2). The body
// is JSON whatever the content type (the reference agent sends none); HTTP status is always 200.

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
import { IdentityError, type AgentDirectory } from './identity.js';

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
    try {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw new AgentCallError('InvalidParameter', 'the request body is not JSON');
      }
      action = typeof body.Action === 'string' ? body.Action : '';
      if (!(AGENT_ACTIONS as readonly string[]).includes(action))
        throw new AgentCallError('InvalidAction', `unknown agent action "${action}"`);
      let identity;
      try {
        identity = await directory.identify(req.headers);
      } catch (e) {
        if (e instanceof IdentityError)
          throw new AgentCallError('AuthFailure.UnauthorizedOperation', e.message);
        throw e;
      }
      server.hub.touch(identity.instanceId);
      const parsed = AgentRequests[action as AgentAction].safeParse(body);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        throw new AgentCallError('InvalidParameter', `${action}: ${i.path.join('.')}: ${i.message}`);
      }
      const handler = AGENT_HANDLERS[action as AgentAction] as (
        s: ServerContext,
        id: string,
        p: unknown,
      ) => Promise<object>;
      const result = await handler(server, identity.instanceId, parsed.data);
      req.log.debug({ action, instanceId: identity.instanceId }, 'agent call');
      return successBody(result, requestId);
    } catch (e) {
      if (e instanceof AgentCallError) {
        req.log.info({ action, code: e.code, reason: e.message }, 'agent call refused');
        return errorBody(e.code, e.message, requestId);
      }
      req.log.error({ err: e, action }, 'agent call failed');
      return errorBody('InternalError', `internal error, request id ${requestId}`, requestId);
    }
  };
  app.post('/agent/invoke', async (req, reply) => sendJson(reply, await handle(req)));
}

type AgentHandlers = {
  [A in AgentAction]: (server: ServerContext, instanceId: string, p: AgentRequest<A>) => Promise<object>;
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
  ReportAgentLog: (server, instanceId, p) => {
    server.log.warn({ instanceId, agentLog: p.LogInfo, level: p.LogLevel }, 'agent reported an error');
    return Promise.resolve({});
  },
  ValidateInstance: () => Promise.resolve({}),
  GetCosCredential: () => {
    throw new AgentCallError('UnsupportedOperation', 'tatd does not store task output in COS');
  },
  RegisterInstance: () => {
    throw new AgentCallError(
      'UnsupportedOperation',
      'registration codes are not available in this tatd yet; start tatd with --open-enrollment',
    );
  },
};
