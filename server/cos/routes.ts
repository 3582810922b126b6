// The object store's HTTP side on tatd's listener, path-style: `PUT /cos/<bucket>/<key>` takes a
// task's full output from the agent (signed COS-style with a credential from GetCosCredential,
// the token in `x-cos-security-token`), streamed to disk; `GET /cos/<bucket>/<key>` serves it to
// whoever holds a pre-signed URL (a task's OutputUrl). Errors answer in COS's XML form.

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cosSignatureMatches, parseCosAuth, parseKeyTime, type CosAuth } from '../../tat/node/cos.js';
import type { ServerContext } from '../context.js';
import { OUTPUT_URL_AK } from './store.js';
import { STARTED_TASK_STATUSES } from '../../tat/status.js';

const KEY_MAX_BYTES = 850;
/** A refused upload up to this size is read to its end before the answer. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;

class CosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xmlEscape = (s: string) =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

function sendError(req: FastifyRequest, reply: FastifyReply, e: CosError, resource: string): FastifyReply {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${e.code}</Code>\n` +
    `  <Message>${xmlEscape(e.message)}</Message>\n  <Resource>${xmlEscape(resource)}</Resource>\n` +
    `  <RequestId>${req.id}</RequestId>\n</Error>\n`;
  return reply
    .code(e.status)
    .header('content-type', 'application/xml')
    .header('x-cos-request-id', req.id)
    .send(body);
}

interface Target {
  bucket: string;
  key: string;
  query: URLSearchParams;
}

/** Bucket and key of `/cos/<bucket>/<key>` (percent-decoded), and the query. */
function targetOf(url: string): Target {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const rest = path.slice('/cos/'.length);
  const slash = rest.indexOf('/');
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
    // The reference agent appends "/<key>" to the bucket URL as given: a trailing "/" there
    // makes "//". The key starts after every leading "/".
    key = decodeURIComponent(slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+/, ''));
  } catch {
    throw new CosError(400, 'InvalidURI', 'The request path is not valid percent-encoding.');
  }
  return { bucket, key, query };
}

function checkKey(key: string): void {
  if (key === '') throw new CosError(400, 'InvalidRequest', 'Bucket-level operations are not supported.');
  if (
    Buffer.byteLength(key) > KEY_MAX_BYTES ||
    key.includes('\0') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..')
  )
    throw new CosError(
      400,
      'InvalidArgument',
      'The object key must be at most 850 bytes, with no empty, "." or ".." folder.',
    );
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The signature fields from the Authorization header, else from the query (pre-signed URL). */
function authOf(req: FastifyRequest, query: URLSearchParams): CosAuth {
  const h = header(req, 'authorization');
  const auth = parseCosAuth(h !== undefined ? new URLSearchParams(h) : query);
  if (!auth) throw new CosError(403, 'AccessDenied', 'Access Denied: the request is not signed.');
  return auth;
}

function checkTime(server: ServerContext, auth: CosAuth): void {
  const t = parseKeyTime(auth.signTime);
  if (!t || t.end < t.start) throw new CosError(403, 'AccessDenied', 'q-sign-time is malformed.');
  const now = server.now() / 1000;
  if (now > t.end) throw new CosError(403, 'AccessDenied', 'Request has expired.');
  if (t.start > now + server.config.timings.signatureWindowMs / 1000)
    throw new CosError(403, 'RequestTimeTooSkewed', 'The signature starts too far in the future.');
}

function checkSignature(req: FastifyRequest, t: Target, auth: CosAuth, secretKey: string): void {
  const ok = cosSignatureMatches(
    { method: req.method, pathname: `/${t.key}`, headers: req.headers, query: t.query },
    auth,
    secretKey,
  );
  if (!ok)
    throw new CosError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
}

async function bucketPresent(server: ServerContext, bucket: string): Promise<boolean> {
  if (!server.cos.isBucket(bucket)) return false;
  try {
    return (await stat(server.cos.bucketDir(bucket))).isDirectory();
  } catch {
    return false;
  }
}

const noSuchBucket = () => new CosError(404, 'NoSuchBucket', 'The specified bucket does not exist.');

/**
 * Reserves `bytes` of `account`'s quota for a new object (a row in 'uploading' state): refused when
 * the object exists (objects are written once) or the quota would be exceeded.
 */
async function reserve(
  server: ServerContext,
  t: Target,
  dest: string,
  owner: { account: string; taskId: string },
  bytes: number,
): Promise<void> {
  const quota = server.config.cos.quotaBytesPerAccount;
  const exists = () =>
    new CosError(409, 'FileAlreadyExists', 'The object already exists; task output is written once.');
  // An object stored by a tatd before it kept an index has a file but no row.
  if (
    await stat(dest).then(
      () => true,
      () => false,
    )
  )
    throw exists();
  await server.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('cos_objects')
      .select('state')
      .where('bucket', '=', t.bucket)
      .where('key', '=', t.key)
      .executeTakeFirst();
    if (row) throw exists();
    const { used } = await trx
      .selectFrom('cos_objects')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('bytes'), eb.val(0)).as('used'))
      .where('account', '=', owner.account)
      .executeTakeFirstOrThrow();
    if (Number(used) + bytes > quota)
      throw new CosError(
        403,
        'QuotaExceeded',
        `The account's objects would exceed its quota of ${quota} bytes (${Number(used)} used).`,
      );
    await trx
      .insertInto('cos_objects')
      .values({
        bucket: t.bucket,
        key: t.key,
        account: owner.account,
        task_id: owner.taskId,
        bytes,
        state: 'uploading',
        created_at: server.now(),
      })
      .execute();
  });
}

async function putObject(server: ServerContext, req: FastifyRequest, reply: FastifyReply, t: Target) {
  const { cos } = server;
  if (!(await bucketPresent(server, t.bucket))) throw noSuchBucket();
  checkKey(t.key);
  const auth = authOf(req, t.query);
  checkTime(server, auth);
  const token = header(req, 'x-cos-security-token') ?? t.query.get('x-cos-security-token') ?? undefined;
  if (!token)
    throw new CosError(
      403,
      'AccessDenied',
      'Access Denied: uploads need a temporary credential (GetCosCredential) and its x-cos-security-token.',
    );
  const opened = cos.openToken(token, server.now());
  if (!opened.ok)
    throw new CosError(
      403,
      opened.why === 'expired' ? 'ExpiredToken' : 'InvalidToken',
      opened.why === 'expired' ? 'The security token has expired.' : 'The security token is not valid.',
    );
  if (auth.ak !== opened.secretId)
    throw new CosError(403, 'InvalidAccessKeyId', 'The access key id does not belong to the security token.');
  checkSignature(req, t, auth, opened.secretKey);
  if (opened.scope.bucket !== t.bucket || opened.scope.key !== t.key)
    throw new CosError(
      403,
      'AccessDenied',
      `Access Denied: the credential allows writing only ${opened.scope.bucket}/${opened.scope.key}.`,
    );
  const lengthText = header(req, 'content-length');
  if (lengthText === undefined || !/^\d+$/.test(lengthText))
    throw new CosError(411, 'MissingContentLength', 'A PUT needs Content-Length.');
  const length = Number(lengthText);
  if (length > cos.config.maxObjectBytes)
    throw new CosError(
      400,
      'EntityTooLarge',
      `The object is larger than ${cos.config.maxObjectBytes} bytes.`,
    );
  const dest = cos.objectPath(t.bucket, t.key);
  if (!dest) throw new CosError(400, 'InvalidArgument', 'The object key leaves the bucket.');
  // The credential writes only while its task runs (the agent uploads before its finish report).
  const task = await server.db
    .selectFrom('tasks')
    .select(['status', 'account'])
    .where('id', '=', opened.scope.taskId)
    .executeTakeFirst();
  if (!task || !(STARTED_TASK_STATUSES as readonly string[]).includes(task.status))
    throw new CosError(
      403,
      'AccessDenied',
      `Access Denied: task ${opened.scope.taskId} is not running; its credential no longer writes.`,
    );
  await reserve(server, t, dest, { account: task.account, taskId: opened.scope.taskId }, length);

  const tmp = `${cos.uploads}/${randomUUID()}`;
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > length)
        return done(new CosError(400, 'InvalidArgument', 'The body is longer than Content-Length.'));
      md5.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(req.raw, count, createWriteStream(tmp, { mode: 0o600 }));
    if (size !== length)
      throw new CosError(
        400,
        'IncompleteBody',
        `Received ${size} of ${length} bytes announced by Content-Length.`,
      );
    // Deleted from disk meanwhile: the bucket is gone, not to be made again by mkdir.
    if (!(await bucketPresent(server, t.bucket))) throw noSuchBucket();
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await rename(tmp, dest);
    await server.db
      .updateTable('cos_objects')
      .set({ state: 'stored', bytes: size })
      .where('bucket', '=', t.bucket)
      .where('key', '=', t.key)
      .execute();
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    await server.db
      .deleteFrom('cos_objects')
      .where('bucket', '=', t.bucket)
      .where('key', '=', t.key)
      .where('state', '=', 'uploading')
      .execute();
    if (e instanceof CosError) throw e;
    if (req.raw.destroyed || req.raw.readableAborted)
      throw new CosError(400, 'IncompleteBody', 'The upload was interrupted.');
    throw e;
  }
  req.log.info({ bucket: t.bucket, key: t.key, bytes: size, taskId: opened.scope.taskId }, 'object stored');
  return reply
    .code(200)
    .header('etag', `"${md5.digest('hex')}"`)
    .header('x-cos-request-id', req.id)
    .send();
}

async function getObject(server: ServerContext, req: FastifyRequest, reply: FastifyReply, t: Target) {
  if (!(await bucketPresent(server, t.bucket))) throw noSuchBucket();
  checkKey(t.key);
  const auth = authOf(req, t.query);
  if (auth.ak !== OUTPUT_URL_AK)
    throw new CosError(403, 'InvalidAccessKeyId', 'Objects are read through the OutputUrl of their task.');
  checkTime(server, auth);
  checkSignature(req, t, auth, server.cos.readKey(t.bucket));
  const path = server.cos.objectPath(t.bucket, t.key);
  const st = path ? await stat(path).catch(() => undefined) : undefined;
  if (!path || !st?.isFile()) throw new CosError(404, 'NoSuchKey', 'The specified key does not exist.');
  return reply
    .code(200)
    .header('content-type', 'application/octet-stream')
    .header('content-length', st.size)
    .header('last-modified', st.mtime.toUTCString())
    .header('x-cos-request-id', req.id)
    .send(createReadStream(path));
}

type Handler = (
  s: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  t: Target,
) => Promise<FastifyReply>;

export function registerObjectStore(app: FastifyInstance, server: ServerContext): void {
  const serve = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.raw.url ?? req.url;
    let resource = url.split('?')[0]!;
    try {
      const t = targetOf(url);
      resource = `${t.bucket}/${t.key}`;
      return await handler(server, req, reply, t);
    } catch (e) {
      // The body of a refused upload is read and dropped, so the client gets to read the answer
      // (a small one; for a large one the connection is closed instead).
      if (req.method === 'PUT' && !req.raw.readableEnded && !req.raw.destroyed) {
        if (Number(header(req, 'content-length') ?? Infinity) <= DRAIN_MAX_BYTES) req.raw.resume();
        else void reply.header('connection', 'close');
      }
      if (e instanceof CosError) {
        req.log.info({ code: e.code, resource, method: req.method }, 'object store refused a request');
        return sendError(req, reply, e, resource);
      }
      req.log.error({ err: e, resource, method: req.method }, 'object store failed');
      return sendError(req, reply, new CosError(500, 'InternalError', 'Internal error.'), resource);
    }
  };
  // Uploads cut off by a stop of tatd: their reservations and partial bodies go.
  app.addHook('onReady', async () => {
    await server.db.deleteFrom('cos_objects').where('state', '=', 'uploading').execute();
    for (const f of await readdir(server.cos.uploads))
      await unlink(`${server.cos.uploads}/${f}`).catch(() => undefined);
  });
  void app.register((scope, _opts, done) => {
    // Bodies are streamed to disk by the handler, not buffered by a parser.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, next) => next(null));
    scope.put('/cos/*', serve(putObject));
    scope.get('/cos/*', serve(getObject));
    done();
  });
}
