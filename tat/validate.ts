// Value rules of the TAT API with their error codes (docs/tat-api-reference.md, "Actions", "Custom
// parameters", "Limits"). Pure functions that throw TatError; the server calls them, and so can a
// client that wants to fail early.

import { TatError } from './errors.js';
import type { TatErrorCode } from './error-codes.js';
import { LIMITS } from './limits.js';
import type { Filter, Tag } from './schemas/common.js';
import { COMMAND_TYPES, type CommandType } from './schemas/types.js';

const utf8 = new TextEncoder();

const COMMAND_NAME = /^[\p{L}\p{N}_.-]+$/u;
export function checkCommandName(name: string): void {
  if (name.length === 0)
    throw new TatError('InvalidParameterValue.InvalidCommandName', 'CommandName must not be empty.');
  if (utf8.encode(name).length > LIMITS.commandNameBytes)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `CommandName is longer than ${LIMITS.commandNameBytes} bytes (UTF-8).`,
    );
  if (!COMMAND_NAME.test(name))
    throw new TatError(
      'InvalidParameterValue.InvalidCommandName',
      `CommandName "${name}" may only contain letters, digits, "_", "-" and ".".`,
    );
}

export function checkDescription(description: string): void {
  if (description.length > LIMITS.commandDescriptionChars)
    throw new TatError(
      'InvalidParameterValue.TooLong',
      `Description is longer than ${LIMITS.commandDescriptionChars} characters.`,
    );
}

/** Whether a character code is of the standard Base64 alphabet (A-Z a-z 0-9 + /). */
function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * Standard Base64 with padding (what the SDKs send and the agent decodes). One pass over the
 * text, no regular expression: a backtracking pattern overflows the stack on a text of megabytes.
 */
export function isBase64(text: string): boolean {
  const n = text.length;
  if (n % 4 !== 0) return false;
  const pad = n > 0 && text.charCodeAt(n - 1) === 61 ? (text.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  for (let i = 0; i < n - pad; i++) if (!isBase64Char(text.charCodeAt(i))) return false;
  return true;
}

/** `Content` must be non-empty standard Base64 of at most 64 KB. */
export function checkContent(content: string): void {
  if (content.length === 0)
    throw new TatError('InvalidParameterValue.CommandContentInvalid', 'Content must not be empty.');
  if (content.length > LIMITS.contentBase64Bytes)
    throw new TatError(
      'InvalidParameterValue.CommandContentInvalid',
      `Content is ${content.length} bytes of Base64; at most ${LIMITS.contentBase64Bytes} are allowed.`,
    );
  if (!isBase64(content))
    throw new TatError(
      'InvalidParameterValue.CommandContentInvalid',
      'Content must be the script encoded in standard Base64.',
    );
}

export function checkCommandType(t: string): CommandType {
  if (!(COMMAND_TYPES as readonly string[]).includes(t))
    throw new TatError(
      'InvalidParameterValue',
      `CommandType "${t}" is not one of ${COMMAND_TYPES.join(', ')}.`,
    );
  return t as CommandType;
}

export function checkTimeout(timeout: number): void {
  if (timeout < LIMITS.timeoutMin || timeout > LIMITS.timeoutMax)
    throw new TatError(
      'InvalidParameterValue.Range',
      `Timeout must be between ${LIMITS.timeoutMin} and ${LIMITS.timeoutMax} seconds (got ${timeout}).`,
    );
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
export function checkWorkingDirectory(dir: string, type: CommandType): void {
  const bad = (why: string) =>
    new TatError('InvalidParameterValue.InvalidWorkingDirectory', `WorkingDirectory "${dir}" ${why}.`);
  if (dir.length === 0) throw bad('must not be empty');
  if (dir.length > LIMITS.workingDirectoryChars)
    throw bad(`is longer than ${LIMITS.workingDirectoryChars} characters`);
  if (CONTROL.test(dir)) throw bad('contains control characters');
  if (type === 'SHELL' && !dir.startsWith('/')) throw bad('must be an absolute path for a SHELL command');
  if (type !== 'SHELL' && !/^[A-Za-z]:[\\/]/.test(dir))
    throw bad(`must be an absolute Windows path (like C:\\dir) for a ${type} command`);
}

// A leading "-" would be read as an option by the tools that look the user up.
const USERNAME = /^[^\s:/\\"'`$-][^\s:/\\"'`$]*$/;
export function checkUsername(
  name: string,
  code: TatErrorCode = 'InvalidParameterValue.InvalidUsername',
): void {
  if (name.length === 0 || name.length > LIMITS.usernameChars || !USERNAME.test(name) || CONTROL.test(name))
    throw new TatError(
      code,
      `Username "${name.slice(0, 64)}" is not a valid user name (1 to ${LIMITS.usernameChars} characters, not starting with "-", no spaces, quotes, ":", "/" or "\\").`,
    );
}

export function checkCosBucketUrl(url: string): void {
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === 'https:' && u.hostname.length > 0 && (u.pathname === '/' || u.pathname === '');
  } catch {
    ok = false;
  }
  if (!ok)
    throw new TatError(
      'InvalidParameterValue.InvalidOutputCOSBucketUrl',
      `OutputCOSBucketUrl "${url}" must be a bucket URL starting with https://, like https://BucketName-123454321.cos.ap-beijing.myqcloud.com.`,
    );
}

export function checkCosKeyPrefix(prefix: string): void {
  const bad = (why: string) =>
    new TatError('InvalidParameterValue.InvalidOutputCOSKeyPrefix', `OutputCOSKeyPrefix "${prefix}" ${why}.`);
  if (prefix.length > LIMITS.cosKeyPrefixChars)
    throw bad(`is longer than ${LIMITS.cosKeyPrefixChars} characters`);
  if (prefix.startsWith('/')) throw bad('must not start with "/"');
  if (prefix.includes('//')) throw bad('must not contain "//"');
  // "." and ".." would name another folder than the one written: the object store refuses them.
  if (prefix.split('/').some((s) => s === '.' || s === '..'))
    throw bad('must not use "." or ".." as a folder name');
  if (CONTROL.test(prefix)) throw bad('contains control characters');
}

export function checkTags(tags: Tag[]): void {
  if (tags.length > LIMITS.tagsPerResource)
    throw new TatError(
      'InvalidParameterValue',
      `At most ${LIMITS.tagsPerResource} tags are allowed (got ${tags.length}).`,
    );
  const keys = new Set<string>();
  for (const t of tags) {
    if (t.Key.length === 0 || t.Key.length > 127)
      throw new TatError(
        'InvalidParameterValue',
        `Tag key "${t.Key.slice(0, 40)}" must be 1 to 127 characters.`,
      );
    if (t.Value.length > 255)
      throw new TatError(
        'InvalidParameterValue',
        `The value of tag "${t.Key}" is longer than 255 characters.`,
      );
    if (keys.has(t.Key)) throw new TatError('InvalidParameterValue', `Tag key "${t.Key}" is given twice.`);
    keys.add(t.Key);
  }
}

/**
 * Whether a resource's tags pass one of the tag filters `tag-key`, `tag-value` or `tag:<key>`
 * (docs/tat-api-reference.md, "Filters"): any of the filter's values matches.
 */
export function tagFilterMatches(f: Filter, tags: readonly Tag[]): boolean {
  const any = (v: string) => f.Values.includes(v);
  if (f.Name === 'tag-key') return tags.some((t) => any(t.Key));
  if (f.Name === 'tag-value') return tags.some((t) => any(t.Value));
  const key = f.Name.slice('tag:'.length);
  return tags.some((t) => t.Key === key && any(t.Value));
}

/** Checks an instance-id list against its maximum and for duplicates. */
export function checkInstanceIdCount(ids: string[], max: number, field = 'InstanceIds'): void {
  if (ids.length === 0) throw new TatError('MissingParameter', `${field} must name at least one instance.`);
  if (ids.length > max)
    throw new TatError(
      'InvalidParameterValue.LimitExceeded',
      `${field} names ${ids.length} instances; at most ${max} are allowed per call.`,
    );
  if (new Set(ids).size !== ids.length)
    throw new TatError('InvalidParameterValue', `${field} names the same instance more than once.`);
}

export interface ListRule {
  /** Allowed filter names; a name ending in ':' is a prefix (like `tag:`). */
  filters: readonly string[];
  /** Code for a filter with more than 5 values. */
  tooManyValuesCode?: TatErrorCode;
  idsField: string;
}

export interface Page {
  limit: number;
  offset: number;
}

/** Shared rules of the Describe* actions: ids xor filters, counts, filter names, paging. */
export function checkListRequest(
  rule: ListRule,
  ids: string[] | undefined,
  filters: Filter[] | undefined,
  limit: number | undefined,
  offset: number | undefined,
): Page {
  if (ids !== undefined && filters !== undefined)
    throw new TatError(
      'InvalidParameter.ConflictParameter',
      `${rule.idsField} and Filters cannot be used together; give one or the other.`,
    );
  if (ids && ids.length > LIMITS.idsPerDescribe)
    throw new TatError(
      'InvalidParameterValue.LimitExceeded',
      `${rule.idsField} holds ${ids.length} ids; at most ${LIMITS.idsPerDescribe} are allowed.`,
    );
  if (filters) {
    if (filters.length > LIMITS.filtersPerRequest)
      throw new TatError(
        'InvalidParameterValue.LimitExceeded',
        `At most ${LIMITS.filtersPerRequest} filters are allowed (got ${filters.length}).`,
      );
    for (const f of filters) {
      const known = rule.filters.some((n) =>
        n.endsWith(':') ? f.Name.startsWith(n) && f.Name.length > n.length : n === f.Name,
      );
      if (!known)
        throw new TatError(
          'InvalidParameterValue.InvalidFilter',
          `Unknown filter "${f.Name}"; the allowed filters are ${rule.filters.map((n) => (n.endsWith(':') ? `${n}<key>` : n)).join(', ')}.`,
        );
      if (f.Values.length > LIMITS.valuesPerFilter)
        throw new TatError(
          rule.tooManyValuesCode ?? 'InvalidParameterValue.LimitExceeded',
          `Filter "${f.Name}" has ${f.Values.length} values; at most ${LIMITS.valuesPerFilter} are allowed.`,
        );
      if (f.Values.length === 0)
        throw new TatError('InvalidParameterValue.InvalidFilter', `Filter "${f.Name}" has no values.`);
    }
  }
  return checkPage(limit, offset);
}

export function checkPage(limit: number | undefined, offset: number | undefined): Page {
  const l = limit ?? LIMITS.pageSizeDefault;
  const o = offset ?? 0;
  if (l < 0 || l > LIMITS.pageSizeMax)
    throw new TatError(
      'InvalidParameterValue.LimitExceeded',
      `Limit must be between 0 and ${LIMITS.pageSizeMax} (got ${l}).`,
    );
  if (o < 0) throw new TatError('InvalidParameterValue', `Offset must not be negative (got ${o}).`);
  return { limit: l, offset: o };
}

/** Checks that each value of a filter is one of `allowed`. */
export function checkFilterValues(f: Filter, allowed: readonly string[]): void {
  for (const v of f.Values)
    if (!allowed.includes(v))
      throw new TatError(
        'InvalidParameterValue.InvalidFilter',
        `Filter "${f.Name}" does not accept "${v}"; use ${allowed.join(' or ')}.`,
      );
}
