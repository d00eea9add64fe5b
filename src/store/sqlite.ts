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
 * Opens (or creates) the embedded database in WAL mode and applies one plane's pending migrations in order,
 * each in its own transaction, so a crash mid-migration leaves the previous schema intact. Every plane keeps
 * its tables in the same file through a connection of its own; its migrations are numbered separately.
 */
export function openSqlite(file: string, plane: string, migrations: readonly Migration[]): Sqlite {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // First, so that switching to WAL and migrating wait for another process opening the same file.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    plane TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (plane, version))`);
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE plane = ? AND version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (plane, version, description, applied_at) VALUES (?, ?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    // Checked under the write lock: another process (the CLI next to a server) may be migrating the same file.
    db.transaction(() => {
      if (applied.get(plane, m.version) !== undefined) return;
      db.exec(m.up);
      record.run(plane, m.version, m.description, new Date().toISOString());
    }).immediate();
  }
  return db;
}
