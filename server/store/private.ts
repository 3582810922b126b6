// tatd's files hold secrets (`tat-hidden` parameter values in the database, the object store's
// signing key, task output): only tatd's user may read them, whatever the umask it was started
// with. Modes are set explicitly after creation, so files made by an older tatd are fixed too.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** A directory only its owner can enter (0700), created with its parents when missing. */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/** A file only its owner can read (0600), created empty when missing. */
export function privateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/** Makes `path` owner-only (0600) if it exists. */
export function restrictIfPresent(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o600);
}
