// Opening the store: SQLite (one file under --data) through Kysely, migrated to the latest schema.

import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider, type SqliteDatabase } from 'kysely';
import { MIGRATIONS } from './migrations.js';
import type { Database } from './schema.js';
import { privateDir, privateFile, restrictIfPresent } from './private.js';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  close(): Promise<void>;
}

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

export async function migrate(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; on the hot paths (agent reports) preparing costs as much as
 * running. Statements are cached by their SQL text (least recently used dropped first). Reuse is
 * safe: Kysely runs one query at a time on this connection and reads each result whole.
 */
function withStatementCache(file: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sqlText: string) {
      let st = cache.get(sqlText);
      if (st) cache.delete(sqlText);
      else {
        st = file.prepare(sqlText);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, st);
      return st;
    },
    close: () => file.close(),
  };
}

/**
 * Opens (creating if needed) `<dataDir>/tatd.sqlite` and migrates it. The directory is 0700, the
 * database 0600; SQLite gives its -wal and -shm files the database's mode.
 */
export async function openSqliteStore(dataDir: string): Promise<Store> {
  privateDir(dataDir);
  const path = join(dataDir, 'tatd.sqlite');
  privateFile(path);
  const file = new SQLite(path);
  // WAL + NORMAL: a crash of the process loses nothing that was committed; only an OS crash can
  // lose the last transactions. busy_timeout covers a second process opening the file to read.
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  file.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(file) }) });
  await migrate(db as Kysely<unknown>);
  for (const extra of ['-wal', '-shm']) restrictIfPresent(`${path}${extra}`);
  return { db, close: () => db.destroy() };
}
