import type { Statement } from 'better-sqlite3';
import type { KeyStore, SigningKeyRow } from '../../crypto/signing-key-ring.js';
import { openSqlite, type Migration, type Sqlite } from '../../store/sqlite.js';

/** The keys that sign registry tokens, shared by every process and replica that serves the registries. */
export const REGISTRY_TOKEN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'registry token signing keys, with a generation that every key change bumps',
    up: `
      CREATE TABLE registry_token_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
      INSERT INTO registry_token_generation (id, value) VALUES (1, 0);
      CREATE TABLE registry_token_keys (
        kid TEXT PRIMARY KEY,
        private_jwk TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
      );
      ${['INSERT', 'UPDATE', 'DELETE'].map((op) => `
      CREATE TRIGGER registry_token_keys_${op.toLowerCase()}_bumps_generation AFTER ${op} ON registry_token_keys
      BEGIN UPDATE registry_token_generation SET value = value + 1 WHERE id = 1; END;`).join('\n')}
    `,
  },
];

export class SqliteKeyStore implements KeyStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;

  constructor(file: string) {
    this.db = openSqlite(file, 'registry-tokens', REGISTRY_TOKEN_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      generation: p('SELECT value FROM registry_token_generation WHERE id = 1'),
      keys: p('SELECT kid, private_jwk, retired_at FROM registry_token_keys ORDER BY created_at'),
      retireActive: p('UPDATE registry_token_keys SET retired_at = ? WHERE retired_at IS NULL'),
      insert: p('INSERT INTO registry_token_keys (kid, private_jwk, created_at) VALUES (?, ?, ?)'),
      deleteRetiredBefore: p('DELETE FROM registry_token_keys WHERE retired_at IS NOT NULL AND retired_at < ?'),
      delete: p('DELETE FROM registry_token_keys WHERE kid = ?'),
    };
  }

  /** Changes whenever a key is added, retired or removed, by any process. */
  generation(): number {
    return this.q.generation!.pluck().get() as number;
  }

  signingKeys(): SigningKeyRow[] {
    return this.q.keys!.all() as SigningKeyRow[];
  }

  activateSigningKey(kid: string, privateJwk: string, dropRetiredBefore: string): void {
    this.db.transaction(() => {
      const now = new Date().toISOString();
      this.q.retireActive!.run(now);
      this.q.insert!.run(kid, privateJwk, now);
      this.q.deleteRetiredBefore!.run(dropRetiredBefore);
    }).immediate();
  }

  deleteSigningKey(kid: string): boolean {
    return this.q.delete!.run(kid).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
