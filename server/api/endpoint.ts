// The public API 3.0 endpoint: `POST /` and `GET /`. Decodes the three request styles official
// clients send (TC3 JSON, TC3 GET, v1 form; docs/tat-api-reference.md, "Requests"), authenticates,
// checks version, action and region, validates the parameters against the action's schema and
// dispatches.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ACTION_ERROR_CODES, isTatError, REQUESTS, TatError, type ActionName } from '../../tat/index.js';
import type { CallContext, ServerContext } from '../context.js';
import { HANDLERS } from './actions.js';
import { headerValue } from '../../tat/node/signing.js';
import { authenticateTc3, authenticateV1, Keyring, type Authenticated } from './auth.js';
import { SignatureLedger } from '../guard/replay.js';
import { normalizeAddress } from '../gateway/addresses.js';
import { coerceToSchema, unflatten } from './decode.js';
import { errorFor, sendJson, successBody } from './envelope.js';

const VERSION = '2020-10-28';

interface DecodedCall {
  account: string;
  /** The signature and its style, for the replay guard. */
  signed: Authenticated & { style: 'tc3' | 'v1' };
  action: string;
  version: string | undefined;
  region: string | undefined;
  /** Parameters in JSON shape; `flat` when they came as form/query strings needing coercion. */
  params: unknown;
  flat: boolean;
}

const headerOf = (req: FastifyRequest, name: string) => headerValue(req.headers, name);

function formParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function rawQuery(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i + 1);
}

function decode(server: ServerContext, keys: Keyring, req: FastifyRequest): DecodedCall {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const contentType = (headerOf(req, 'content-type') ?? '').toLowerCase();
  const isForm = contentType.startsWith('application/x-www-form-urlencoded');
  const query = rawQuery(req);
  const now = server.now();
  const window = server.config.timings.signatureWindowMs;
  const authorization = headerOf(req, 'authorization');

  if (authorization?.startsWith('TC3-HMAC-SHA256')) {
    const signed = authenticateTc3(
      keys,
      { method: req.method, query: req.method === 'GET' ? query : '', headers: req.headers, body },
      authorization,
      now,
      window,
    );
    let params: unknown = {};
    let flat = false;
    if (req.method === 'GET') {
      params = unflatten(formParams(query));
      flat = true;
    } else if (isForm) {
      params = unflatten(formParams(body.toString('utf8')));
      flat = true;
    } else if (body.length > 0) {
      try {
        params = JSON.parse(body.toString('utf8'));
      } catch {
        throw new TatError('InvalidParameter', 'The request body is not valid JSON.');
      }
    }
    return {
      account: signed.account,
      signed: { ...signed, style: 'tc3' },
      action: headerOf(req, 'x-tc-action') ?? '',
      version: headerOf(req, 'x-tc-version'),
      region: headerOf(req, 'x-tc-region'),
      params,
      flat,
    };
  }
  if (authorization)
    throw new TatError(
      'AuthFailure.InvalidAuthorization',
      'The Authorization header must use TC3-HMAC-SHA256 (or sign with the v1 Signature parameter).',
    );

  const flatParams = req.method === 'GET' ? formParams(query) : formParams(body.toString('utf8'));
  if (!flatParams.Signature)
    throw new TatError(
      'AuthFailure.InvalidAuthorization',
      'The request is not signed: send a TC3-HMAC-SHA256 Authorization header or v1 Signature parameters.',
    );
  const signed = authenticateV1(keys, req.method, headerOf(req, 'host') ?? '', flatParams, now, window);
  return {
    account: signed.account,
    signed: { ...signed, style: 'v1' },
    action: flatParams.Action ?? '',
    version: flatParams.Version,
    region: flatParams.Region,
    params: unflatten(flatParams),
    flat: true,
  };
}

function describePath(path: PropertyKey[]): string {
  return path.map(String).join('.');
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Validates parameters against the action's schema: MissingParameter or InvalidParameter. */
function validateParams(action: ActionName, params: unknown): unknown {
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    throw new TatError('InvalidParameter', 'The request parameters must be a JSON object.');
  const schema = REQUESTS[action] as z.ZodType;
  const r = schema.safeParse(params);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const name = describePath(issue.path);
  if (issue.code === 'invalid_type' && valueAt(params, issue.path) === undefined)
    throw new TatError('MissingParameter', `The parameter ${name} is required.`);
  const expected = issue.code === 'invalid_type' ? `must be of type ${issue.expected}` : issue.message;
  throw new TatError('InvalidParameter', `The parameter ${name} ${expected}.`);
}

export function registerApi(app: FastifyInstance, server: ServerContext): void {
  const keys = new Keyring(server.config.accounts);
  const regions = new Map(server.config.regions.map((r) => [r.Region, r.RegionState]));

  const ledger = new SignatureLedger(server);
  app.addHook('onClose', (_app, done) => {
    ledger.stop();
    done();
  });
  const { limits } = server;

  const handle = async (req: FastifyRequest): Promise<string> => {
    const started = performance.now();
    let action: ActionName | undefined;
    let log = req.log;
    const address = normalizeAddress(req.ip);
    try {
      limits.checkAddress(address);
      let call: DecodedCall;
      try {
        call = decode(server, keys, req);
      } catch (e) {
        if (isTatError(e) && e.code.startsWith('AuthFailure')) limits.authFailed(address);
        throw e;
      }
      // From here on every line of this call names who made it.
      log = req.log.child({ action: call.action, account: call.account, region: call.region });
      if (!call.version) throw new TatError('MissingParameter', 'The request has no version (X-TC-Version).');
      if (call.version !== VERSION)
        throw new TatError('NoSuchVersion', `Version "${call.version}" is not supported; use ${VERSION}.`);
      if (!call.action) throw new TatError('MissingParameter', 'The request names no action (X-TC-Action).');
      if (!Object.hasOwn(ACTION_ERROR_CODES, call.action))
        throw new TatError('InvalidAction', `"${call.action}" is not an action of the TAT API ${VERSION}.`);
      action = call.action as ActionName;
      let region = call.region ?? '';
      if (region === '' && action !== 'DescribeRegions')
        throw new TatError('MissingParameter', 'The request names no region (X-TC-Region).');
      if (region !== '' && !regions.has(region))
        throw new TatError(
          'UnsupportedRegion',
          `Region "${region}" is not served here; see DescribeRegions.`,
        );
      if (regions.get(region) === 'UNAVAILABLE' && action !== 'DescribeRegions')
        throw new TatError(
          'UnsupportedRegion',
          `Region "${region}" is UNAVAILABLE on this server (RegionState in DescribeRegions).`,
        );
      if (region === '') region = server.config.regions[0]!.Region;
      limits.apiCall(call.account, action);
      // After the rate limit: a call refused for it may be sent again with the same signature.
      try {
        const { signed } = call;
        if (signed.style === 'tc3') await ledger.tc3(signed.signature, action, address, signed.validUntil);
        else await ledger.v1(signed.secretId, signed.signature, action, address, signed.validUntil);
      } catch (e) {
        if (isTatError(e)) limits.authFailed(address);
        throw e;
      }
      const schema = REQUESTS[action] as z.ZodType;
      const params = validateParams(action, call.flat ? coerceToSchema(schema, call.params) : call.params);
      const ctx: CallContext = { server, account: call.account, region, requestId: req.id, log };
      const handler = HANDLERS[action] as (c: CallContext, p: unknown) => Promise<object>;
      const result = await handler(ctx, params);
      log.info({ ms: Math.round(performance.now() - started) }, 'api call');
      return successBody(result, req.id);
    } catch (e) {
      const body = errorFor(e, action, req.id, log);
      log.info(
        { ms: Math.round(performance.now() - started), error: (e as TatError).code ?? 'InternalError' },
        'api call failed',
      );
      return body;
    }
  };

  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/',
      bodyLimit: server.config.connections.apiBodyBytes,
      handler: async (req, reply) => {
        const body = await handle(req);
        const trace = headerOf(req, 'x-tc-traceid');
        if (trace) void reply.header('X-TC-TraceId', trace);
        return sendJson(reply, body);
      },
    });
  }
}
