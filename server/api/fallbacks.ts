// Answers for requests no route takes (another method or path, a URL fastify cannot decode): in
// the API 3.0 envelope with HTTP 200, as clients read only the envelope; under /cos/ in the
// object store's COS XML form. fastify's own JSON error bodies never reach a client.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, sendJson } from './envelope.js';

const xml = (s: string) =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

function answer(req: FastifyRequest, reply: FastifyReply, cos: [number, string], message: string) {
  const path = (req.raw.url ?? req.url).split('?')[0]!;
  if (path.startsWith('/cos/'))
    return reply
      .code(cos[0])
      .header('content-type', 'application/xml')
      .send(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${cos[1]}</Code>\n  <Message>${xml(message)}</Message>\n  <RequestId>${req.id}</RequestId>\n</Error>\n`,
      );
  return sendJson(reply, errorBody('InvalidRequest', message, req.id));
}

/** setNotFoundHandler: a method or path tatd does not serve. */
export function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return answer(
    req,
    reply,
    [405, 'MethodNotAllowed'],
    `${req.method} ${(req.raw.url ?? req.url).split('?')[0]!.slice(0, 100)} is not served here: the API is POST / ` +
      'and GET /, agents use POST /agent/invoke and GET /agent/ws, objects PUT and GET /cos/<bucket>/<key>.',
  );
}

/** fastify's `frameworkErrors`: a request rejected before routing (a URL that does not decode). */
export function frameworkError(err: Error, req: FastifyRequest, reply: FastifyReply): void {
  void answer(req, reply, [400, 'InvalidURI'], `The request could not be read: ${err.message}`);
}
