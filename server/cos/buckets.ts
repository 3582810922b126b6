// OutputCOSBucketUrl in tatd: buckets of the built-in object store are reached path-style under
// tatd's own URL, `https://<tatd host>/cos/<bucket>`. A URL is first checked for form (https, or
// http under the development option `cos.allowHttp`; COS's own form `https://<bucket>.cos.<region>.
// myqcloud.com` passes too), then, where output is about to be written (RunCommand,
// InvokeCommand), for a bucket tatd has.

import { TatError } from '../../tat/index.js';
import type { ServerConfig } from '../config.js';

const PATH_STYLE = /^\/cos\/([^/]+)\/?$/;

function parse(url: string): URL | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The form rule of OutputCOSBucketUrl (CreateCommand, ModifyCommand, RunCommand, InvokeCommand). */
export function checkBucketUrlForm(config: ServerConfig, url: string): void {
  const u = parse(url);
  const schemeOk =
    u !== undefined && (u.protocol === 'https:' || (config.cos.allowHttp && u.protocol === 'http:'));
  const shapeOk =
    u !== undefined &&
    u.hostname.length > 0 &&
    u.username === '' &&
    u.password === '' &&
    u.search === '' &&
    u.hash === '' &&
    (u.pathname === '/' || PATH_STYLE.test(u.pathname));
  if (!schemeOk || !shapeOk)
    throw new TatError(
      'InvalidParameterValue.InvalidOutputCOSBucketUrl',
      `OutputCOSBucketUrl "${url.slice(0, 200)}" must be a bucket URL starting with https://: ` +
        'https://<tatd host>/cos/<bucket> for tatd, or https://BucketName-123454321.cos.ap-beijing.myqcloud.com.',
    );
}

/** The name of the built-in bucket `url` names, if `account` may use it. */
export function builtInBucket(config: ServerConfig, url: string, account: string): string | undefined {
  const u = parse(url);
  const m = u ? PATH_STYLE.exec(u.pathname) : null;
  if (!m) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  const b = config.cos.buckets.find((x) => x.name === name);
  if (!b || (b.appId !== undefined && b.appId !== account)) return undefined;
  return b.name;
}

/** RunCommand / InvokeCommand: the output is going to be written there, so the bucket must exist. */
export function assertBucketExists(config: ServerConfig, url: string, account: string): void {
  if (builtInBucket(config, url, account) === undefined)
    throw new TatError(
      'ResourceNotFound.CosBucketNotFoundCode',
      `The bucket of OutputCOSBucketUrl "${url.slice(0, 200)}" does not exist. tatd keeps output in ` +
        'the buckets of its configuration (cos.buckets), reached as <tatd URL>/cos/<bucket>.',
    );
}
