// What every part of tatd shares: configuration, store, logger, clock, and the agent hub.

import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.js';
import type { Db } from './store/db.js';
import type { AgentHub } from './gateway/hub.js';
import type { ObjectStore } from './cos/store.js';
import type { RateLimits } from './guard/rate.js';
import type { InvokerRuntime } from './invokers/service.js';

export interface ServerContext {
  config: ServerConfig;
  db: Db;
  log: Logger;
  hub: AgentHub;
  now: () => number;
  /** The built-in object store (task output uploads). */
  cos: ObjectStore;
  /** Requests per account, address and instance (`rateLimit`). */
  limits: RateLimits;
  /** Invokers' Temporal side; the API tells it what changed (server/invokers/). */
  invokers: InvokerRuntime;
}

/** The caller of one API request: its account and region, and the request's id and logger. */
export interface CallContext {
  server: ServerContext;
  account: string;
  region: string;
  requestId: string;
  log: FastifyBaseLogger;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** `<prefix>-` + 8 characters of [a-z0-9] made from the first 8 bytes (docs/tat-api-reference.md, "Ids"). */
export function idFromBytes(prefix: string, bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ALPHABET[bytes[i]! % 36];
  return `${prefix}-${s}`;
}

/** A new random resource id. */
export function newId(prefix: string): string {
  return idFromBytes(prefix, randomBytes(8));
}

let lastCreatedAt = 0;
/**
 * A creation time later than every earlier one of this process: lists are newest first by it,
 * and two resources created in the same millisecond would otherwise come back in random (id)
 * order. The API shows seconds, so the nudge of a millisecond is invisible.
 */
export function creationTime(now: number): number {
  lastCreatedAt = Math.max(now, lastCreatedAt + 1);
  return lastCreatedAt;
}
