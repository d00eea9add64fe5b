import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One schema change; `up` runs inside the same transaction that records the version. */
export interface Migration {
  version: number;
  description: string;
  up: string;
}

export type Sqlite = Database.Database;

/**
 * Opens (or creates) the embedded database in WAL mode and applies the pending migrations in order,
 * each in its own transaction, so a crash mid-migration leaves the previous schema intact.
 */
export function openSqlite(file: string, migrations: readonly Migration[]): Sqlite {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.up);
      record.run(m.version, m.description, new Date().toISOString());
    })();
  }
  return db;
}
