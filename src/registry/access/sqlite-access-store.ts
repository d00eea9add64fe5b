import type { Statement } from 'better-sqlite3';
import { openSqlite, type Migration, type Sqlite } from '../../store/sqlite.js';
import type { SecretHash } from '../../crypto/secret-hash.js';

/**
 * The registry-access plane's tables, in the shared database file beside the registry plane's, whose
 * `registries` rows they hang off: deleting a registry deletes its admin user, scope maps and tokens with it
 * (so a registry made again under the same name starts with none). Open it after the registry plane.
 */
export const REGISTRY_ACCESS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'admin users, scope maps, repository-scoped tokens and their passwords',
    up: `
      CREATE TABLE admin_users (
        registry_id INTEGER PRIMARY KEY REFERENCES registries(id) ON DELETE CASCADE,
        enabled INTEGER NOT NULL
      );
      CREATE TABLE admin_passwords (
        registry_id INTEGER NOT NULL REFERENCES admin_users(registry_id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sealed BLOB NOT NULL,
        salt BLOB NOT NULL,
        hash BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (registry_id, name)
      );
      CREATE TABLE scope_maps (
        registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        name TEXT NOT NULL COLLATE NOCASE,
        description TEXT,
        actions TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (registry_id, name)
      );
      CREATE TABLE access_tokens (
        registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        name TEXT NOT NULL COLLATE NOCASE,
        scope_map_name TEXT NOT NULL COLLATE NOCASE,
        enabled INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (registry_id, name)
      );
      CREATE TABLE access_token_passwords (
        registry_id INTEGER NOT NULL,
        token_name TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL,
        salt BLOB NOT NULL,
        hash BLOB NOT NULL,
        created_at TEXT NOT NULL,
        expiry TEXT,
        PRIMARY KEY (registry_id, token_name, name),
        FOREIGN KEY (registry_id, token_name) REFERENCES access_tokens (registry_id, name) ON DELETE CASCADE
      );
    `,
  },
];

export interface AdminPasswordRow { name: 'password' | 'password2'; sealed: Buffer; salt: Buffer; hash: Buffer; created_at: string }
export interface ScopeMapRow { name: string; description: string | null; actions: string; created_at: string }
export interface TokenRow { name: string; scope_map_name: string; enabled: number; created_at: string }
export interface TokenPasswordRow { name: 'password1' | 'password2'; salt: Buffer; hash: Buffer; created_at: string; expiry: string | null }

/** Row-level access to the tables; the service above it holds the rules. Registries are named by their id. */
export class SqliteAccessStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;

  constructor(file: string) {
    this.db = openSqlite(file, 'registry-access', REGISTRY_ACCESS_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      adminEnabled: p('SELECT enabled FROM admin_users WHERE registry_id = ?'),
      upsertAdmin: p('INSERT INTO admin_users (registry_id, enabled) VALUES (?, ?) ON CONFLICT (registry_id) DO UPDATE SET enabled = excluded.enabled'),
      adminPasswords: p('SELECT name, sealed, salt, hash, created_at FROM admin_passwords WHERE registry_id = ? ORDER BY name'),
      putAdminPassword: p(`INSERT INTO admin_passwords (registry_id, name, sealed, salt, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)
                           ON CONFLICT (registry_id, name) DO UPDATE SET sealed = excluded.sealed, salt = excluded.salt, hash = excluded.hash, created_at = excluded.created_at`),
      scopeMap: p('SELECT name, description, actions, created_at FROM scope_maps WHERE registry_id = ? AND name = ?'),
      scopeMaps: p('SELECT name, description, actions, created_at FROM scope_maps WHERE registry_id = ? ORDER BY name'),
      putScopeMap: p(`INSERT INTO scope_maps (registry_id, name, description, actions, created_at) VALUES (?, ?, ?, ?, ?)
                      ON CONFLICT (registry_id, name) DO UPDATE SET description = excluded.description, actions = excluded.actions`),
      deleteScopeMap: p('DELETE FROM scope_maps WHERE registry_id = ? AND name = ?'),
      tokensUsing: p('SELECT count(*) FROM access_tokens WHERE registry_id = ? AND scope_map_name = ?'),
      token: p('SELECT name, scope_map_name, enabled, created_at FROM access_tokens WHERE registry_id = ? AND name = ?'),
      tokens: p('SELECT name, scope_map_name, enabled, created_at FROM access_tokens WHERE registry_id = ? ORDER BY name'),
      putToken: p(`INSERT INTO access_tokens (registry_id, name, scope_map_name, enabled, created_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (registry_id, name) DO UPDATE SET scope_map_name = excluded.scope_map_name, enabled = excluded.enabled`),
      deleteToken: p('DELETE FROM access_tokens WHERE registry_id = ? AND name = ?'),
      tokenPasswords: p('SELECT name, salt, hash, created_at, expiry FROM access_token_passwords WHERE registry_id = ? AND token_name = ? ORDER BY name'),
      putTokenPassword: p(`INSERT INTO access_token_passwords (registry_id, token_name, name, salt, hash, created_at, expiry) VALUES (?, ?, ?, ?, ?, ?, ?)
                           ON CONFLICT (registry_id, token_name, name) DO UPDATE SET salt = excluded.salt, hash = excluded.hash, created_at = excluded.created_at, expiry = excluded.expiry`),
    };
  }

  /** undefined: the admin user was never enabled. */
  adminEnabled(registryId: number): boolean | undefined {
    const v = this.q.adminEnabled!.pluck().get(registryId) as number | undefined;
    return v === undefined ? undefined : v === 1;
  }

  setAdminEnabled(registryId: number, enabled: boolean, newPasswords: Array<{ name: 'password' | 'password2'; sealed: Buffer } & SecretHash>): void {
    this.db.transaction(() => {
      this.q.upsertAdmin!.run(registryId, enabled ? 1 : 0);
      for (const p of newPasswords) this.putAdminPassword(registryId, p);
    }).immediate();
  }

  adminPasswords(registryId: number): AdminPasswordRow[] {
    return this.q.adminPasswords!.all(registryId) as AdminPasswordRow[];
  }

  putAdminPassword(registryId: number, p: { name: 'password' | 'password2'; sealed: Buffer } & SecretHash): void {
    this.q.putAdminPassword!.run(registryId, p.name, p.sealed, p.salt, p.hash, new Date().toISOString());
  }

  scopeMap(registryId: number, name: string): ScopeMapRow | undefined {
    return this.q.scopeMap!.get(registryId, name) as ScopeMapRow | undefined;
  }

  scopeMaps(registryId: number): ScopeMapRow[] {
    return this.q.scopeMaps!.all(registryId) as ScopeMapRow[];
  }

  putScopeMap(registryId: number, m: { name: string; description: string | null; actions: string[] }): void {
    this.q.putScopeMap!.run(registryId, m.name, m.description, JSON.stringify(m.actions), new Date().toISOString());
  }

  /** Refuses (returns 'in-use') while a token names the scope map. */
  deleteScopeMap(registryId: number, name: string): 'deleted' | 'unknown' | 'in-use' {
    return this.db.transaction(() => {
      if ((this.q.tokensUsing!.pluck().get(registryId, name) as number) > 0) return 'in-use';
      return this.q.deleteScopeMap!.run(registryId, name).changes > 0 ? 'deleted' : 'unknown';
    }).immediate();
  }

  token(registryId: number, name: string): TokenRow | undefined {
    return this.q.token!.get(registryId, name) as TokenRow | undefined;
  }

  tokens(registryId: number): TokenRow[] {
    return this.q.tokens!.all(registryId) as TokenRow[];
  }

  putToken(registryId: number, t: { name: string; scopeMapName: string; enabled: boolean }): void {
    this.q.putToken!.run(registryId, t.name, t.scopeMapName, t.enabled ? 1 : 0, new Date().toISOString());
  }

  deleteToken(registryId: number, name: string): boolean {
    return this.q.deleteToken!.run(registryId, name).changes > 0;
  }

  tokenPasswords(registryId: number, tokenName: string): TokenPasswordRow[] {
    return this.q.tokenPasswords!.all(registryId, tokenName) as TokenPasswordRow[];
  }

  putTokenPasswords(registryId: number, tokenName: string, passwords: Array<{ name: 'password1' | 'password2'; createdAt: string; expiry: string | null } & SecretHash>): void {
    this.db.transaction(() => {
      for (const p of passwords) this.q.putTokenPassword!.run(registryId, tokenName, p.name, p.salt, p.hash, p.createdAt, p.expiry);
    }).immediate();
  }

  close(): void {
    this.db.close();
  }
}
