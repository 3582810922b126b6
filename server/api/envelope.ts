// The API 3.0 envelope (docs/tat-api-reference.md, "Answers"): HTTP 200, `Content-Type:
// application/json` exactly (with a charset the Python SDK reads errors as successes), `RequestId`
// in every answer.

import type { FastifyReply } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { documentedCodeFor, isTatError, type ActionName } from '../../tat/index.js';

export function successBody(result: object, requestId: string): string {
  return JSON.stringify({ Response: { ...result, RequestId: requestId } });
}

export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } });
}

/** The error answer for anything thrown by an action: TatErrors as they are, the rest InternalError. */
export function errorFor(
  e: unknown,
  action: ActionName | undefined,
  requestId: string,
  log: FastifyBaseLogger,
): string {
  if (isTatError(e)) {
    const code = action ? documentedCodeFor(action, e.code) : e.code;
    return errorBody(code, e.message, requestId);
  }
  log.error({ err: e }, 'internal error');
  return errorBody(
    'InternalError',
    `An internal error occurred; quote request id ${requestId} when reporting it.`,
    requestId,
  );
}

export function sendJson(reply: FastifyReply, body: string): FastifyReply {
  // A Buffer, not the string: fastify appends "; charset=utf-8" to a JSON type set for a string
  // payload, and leaves the header of a Buffer as it is.
  return reply.code(200).header('content-type', 'application/json').send(Buffer.from(body, 'utf8'));
}
