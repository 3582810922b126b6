// How a failed TAT API call reaches Temporal. A request the API refuses for what it is (bad
// parameters, unknown resources, missing rights, an unsupported action) fails the same way on
// every retry, so it becomes a non-retryable ApplicationFailure whose type is the TAT error code.
// Everything else (network errors, InternalError, RequestLimitExceeded, a resource that is busy
// for now) is thrown as it is, and Temporal retries it with back-off.

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import sdkException from 'tencentcloud-sdk-nodejs/tencentcloud/common/exception/tencent_cloud_sdk_exception.js';
import { isAgentUnreachableCode } from '../tat/agent-reachability.js';

const TencentCloudSDKHttpException = sdkException.default;

/**
 * Codes that look permanent by their prefix but are not: tatd refuses a changing call identical to
 * one it accepted within the same second as a replay (AuthFailure.SignatureExpire); re-signed a
 * second later, by the retry, it goes through. (Clock skew is the same code and waits likewise.)
 */
const TRANSIENT_CODES = new Set(['AuthFailure.SignatureExpire']);

/** Code prefixes that name a permanent refusal. `LimitExceeded` does not match `RequestLimitExceeded`. */
const PERMANENT_PREFIXES = [
  'InvalidParameter', // and InvalidParameterValue
  'ResourceNotFound',
  'UnauthorizedOperation',
  'AuthFailure',
  'LimitExceeded',
  'UnsupportedOperation',
];
/** Whole codes that are permanent too: the request itself is wrong, or the quota is used up. */
const PERMANENT_CODES = new Set([
  'MissingParameter',
  'UnknownParameter',
  'InvalidAction',
  'UnsupportedRegion',
  'ResourceUnavailable.UserHasNoQuotaCode',
]);

/** The TAT error code of an API error answered by the server; undefined for network errors. */
export function tatErrorCode(e: unknown): string | undefined {
  if (!(e instanceof TencentCloudSDKHttpException)) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** The TAT error code of a failed call, raw (SDK error) or classified (ApplicationFailure). */
export function errorCode(e: unknown): string | undefined {
  if (e instanceof ApplicationFailure) return e.type ?? undefined;
  return tatErrorCode(e);
}

export function isPermanentCode(code: string): boolean {
  if (TRANSIENT_CODES.has(code)) return false;
  return (
    PERMANENT_CODES.has(code) ||
    PERMANENT_PREFIXES.some((p) => code.startsWith(p)) ||
    // Decided per instance at the call: the engine takes such targets out and goes on with the rest.
    isAgentUnreachableCode(code)
  );
}

/** The error to throw for a failed call: a non-retryable failure for a permanent refusal, else `e`. */
export function classifyTatError(e: unknown, what: string): unknown {
  const code = tatErrorCode(e);
  if (code === undefined || !isPermanentCode(code)) return e;
  return ApplicationFailure.nonRetryable(`${what}: ${code}: ${(e as Error).message}`, code);
}

/** Inside an activity, a heartbeat; outside (the CLI's preview uses the same calls), nothing. */
function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // not in an activity
  }
}

/**
 * Runs one API call; a permanent refusal comes out as a non-retryable failure. Each call heartbeats,
 * so even short activities can have a heartbeat timeout and a dead worker is noticed in seconds.
 */
export async function tatCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  heartbeat();
  try {
    return await call();
  } catch (e) {
    throw classifyTatError(e, what);
  }
}

/** A non-retryable failure for a request that is wrong on our side (before any API call). */
export function badInput(message: string, type = 'tatflow.BadInput'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}
