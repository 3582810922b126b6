// The upload of a task's whole output once it has ended, as the reference agent does it
// (docs/agent-protocol-reference.md, "Output"): a temporary credential from GetCosCredential, then
// one PUT of the file to `<OutputCOSBucketUrl>/<prefix>/<InvocationId>/<InvocationTaskId>.log`,
// signed COS-style over Host, Date, Content-Type and Content-Length, with the token in
// `x-cos-security-token`. The outcome goes into ReportTaskFinish: OutputUrl on success,
// OutputUploadCOSErrorInfo otherwise.

import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { cosAuthorization, cosKeyPath, outputObjectKey } from '../tat/node/cos.js';
import type { FullOutput } from './executor.js';
import type { InvokeClient } from './invoke-client.js';

export interface UploadOutcome {
  OutputUrl: string;
  OutputUploadCOSErrorInfo: string;
}

/** The reference agent's reading of the answer: either spelling of each field, all optional. */
const CredentialAnswer = z
  .object({
    SecretId: z.string().optional(),
    TmpSecretId: z.string().optional(),
    SecretKey: z.string().optional(),
    TmpSecretKey: z.string().optional(),
    Token: z.string().default(''),
    InvocationId: z.string().optional(),
    InvocationID: z.string().optional(),
  })
  .loose();

/** Even an output that filled the task's whole Timeout gets this long to upload. */
const MIN_UPLOAD_MS = 30_000;
/** Validity of the PUT's signature (the reference agent's). */
const SIGNATURE_SECONDS = 600;

interface Credential {
  secretId: string;
  secretKey: string;
  token: string;
  invocationId: string;
}

async function credentialFor(client: InvokeClient, taskId: string): Promise<Credential> {
  const raw = await client.callWithRetry('GetCosCredential', { InvocationTaskId: taskId }, 2);
  const c = CredentialAnswer.parse(raw);
  const secretId = c.TmpSecretId ?? c.SecretId ?? '';
  const secretKey = c.TmpSecretKey ?? c.SecretKey ?? '';
  if (!secretId || !secretKey) throw new Error('the answer holds no credential');
  return { secretId, secretKey, token: c.Token, invocationId: c.InvocationId ?? c.InvocationID ?? '' };
}

/** `<Code>` and `<Message>` of a COS XML error body, when there is one. */
function describeRefusal(status: number, body: string): string {
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const code = field('Code');
  const message = field('Message');
  return `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
}

function put(
  url: URL,
  key: string,
  file: string,
  size: number,
  c: Credential,
  timeoutMs: number,
  signal: AbortSignal,
  ca: Buffer | undefined,
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const signed = {
    host: url.host,
    date: new Date().toUTCString(),
    'content-type': 'application/xml',
    'content-length': String(size),
  };
  const authorization = cosAuthorization(c.secretId, {
    secretKey: c.secretKey,
    method: 'PUT',
    pathname: `/${key}`,
    keyTime: `${now};${now + SIGNATURE_SECONDS}`,
    headers: signed,
  });
  return new Promise<void>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(
      url,
      {
        method: 'PUT',
        headers: { ...signed, authorization, 'x-cos-security-token': c.token },
        signal,
        ...(ca && url.protocol === 'https:' ? { ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (d: Buffer) => {
          if (kept < 64 * 1024) chunks.push(d);
          kept += d.length;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(describeRefusal(status, Buffer.concat(chunks).toString('utf8'))));
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`not done within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    const body = createReadStream(file);
    body.on('error', (e) => req.destroy(e));
    body.pipe(req);
  });
}

/**
 * Uploads the whole output and removes its file; never throws: a failure is the text for
 * OutputUploadCOSErrorInfo. `signal` aborts the upload (agent shutdown).
 */
export async function uploadOutput(
  client: InvokeClient,
  taskId: string,
  full: FullOutput,
  signal: AbortSignal,
): Promise<UploadOutcome> {
  const failed = (why: string): UploadOutcome => ({ OutputUrl: '', OutputUploadCOSErrorInfo: why });
  try {
    if (full.writeError !== undefined)
      return failed(`Output file write failed, nothing uploaded: ${full.writeError}`);
    let c: Credential;
    try {
      c = await credentialFor(client, taskId);
    } catch (e) {
      return failed(`Get COS credential failed: ${(e as Error).message}`);
    }
    const key = outputObjectKey(full.keyPrefix, c.invocationId, taskId);
    const objectUrl = `${full.bucketUrl.replace(/\/+$/, '')}${cosKeyPath(key)}`;
    try {
      const { size } = await stat(full.path);
      await put(
        new URL(objectUrl),
        key,
        full.path,
        size,
        c,
        Math.max(full.deadline - Date.now(), MIN_UPLOAD_MS),
        signal,
        client.ca,
      );
    } catch (e) {
      return failed(`Upload output to cos failed: ${(e as Error).message}`);
    }
    return { OutputUrl: objectUrl, OutputUploadCOSErrorInfo: '' };
  } finally {
    await unlink(full.path).catch(() => undefined);
  }
}
