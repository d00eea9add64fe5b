import type { Statement } from 'better-sqlite3';
import { openSqlite, type Migration, type Sqlite } from '../store/sqlite.js';
import type { AssignmentStore } from './assignment-store.js';
import type { RoleAssignment } from './types.js';

export const RBAC_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'role assignments',
    up: `
      CREATE TABLE role_assignments (
        name TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        scope_key TEXT NOT NULL,
        role_definition_name TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        principal_type TEXT NOT NULL,
        description TEXT,
        created_on TEXT NOT NULL,
        updated_on TEXT NOT NULL,
        created_by TEXT,
        UNIQUE (principal_id, role_definition_name, scope_key)
      );
      CREATE INDEX role_assignments_by_scope ON role_assignments (scope_key);
    `,
  },
  {
    version: 2,
    description: 'a generation every assignment change bumps, for caches in any process',
    up: `
      CREATE TABLE rbac_generation (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL);
      INSERT INTO rbac_generation (id, generation) VALUES (1, 0);
    `,
  },
];

interface AssignmentRow {
  name: string; scope: string; role_definition_name: string; principal_id: string; principal_type: string;
  description: string | null; created_on: string; updated_on: string; created_by: string | null;
}

function toAssignment(r: AssignmentRow): RoleAssignment {
  return {
    name: r.name, scope: r.scope, roleDefinitionName: r.role_definition_name, principalId: r.principal_id,
    principalType: r.principal_type as RoleAssignment['principalType'], description: r.description,
    createdOn: r.created_on, updatedOn: r.updated_on, createdBy: r.created_by,
  };
}

/** Role assignments in the shared SQLite file (plane "rbac"). GUIDs are stored lower-case, scopes with a lower-case key. */
export class SqliteAssignmentStore implements AssignmentStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;

  constructor(file: string) {
    this.db = openSqlite(file, 'rbac', RBAC_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      insert: p(`INSERT INTO role_assignments (name, scope, scope_key, role_definition_name, principal_id, principal_type,
                 description, created_on, updated_on, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      same: p('SELECT * FROM role_assignments WHERE principal_id = ? AND role_definition_name = ? AND scope_key = ?'),
      byName: p('SELECT * FROM role_assignments WHERE name = ?'),
      delete: p('DELETE FROM role_assignments WHERE name = ?'),
      ofPrincipal: p('SELECT * FROM role_assignments WHERE principal_id = ? ORDER BY created_on, name'),
      atOrBelow: p(`SELECT * FROM role_assignments WHERE ? = '/' OR scope_key = ? OR substr(scope_key, 1, ?) = ?
                    ORDER BY created_on, name`),
      deleteOfPrincipal: p('DELETE FROM role_assignments WHERE principal_id = ?'),
      deleteAtOrBelow: p('DELETE FROM role_assignments WHERE scope_key = ? OR substr(scope_key, 1, ?) = ?'),
      generation: p('SELECT generation FROM rbac_generation WHERE id = 1'),
      bump: p('UPDATE rbac_generation SET generation = generation + 1 WHERE id = 1'),
    };
  }

  insert(a: RoleAssignment): { created: true } | { created: false; existing: RoleAssignment } {
    return this.db.transaction(() => {
      const principal = a.principalId.toLowerCase();
      const role = a.roleDefinitionName.toLowerCase();
      const key = a.scope.toLowerCase();
      const existing = this.q.same!.get(principal, role, key) as AssignmentRow | undefined;
      if (existing) return { created: false as const, existing: toAssignment(existing) };
      this.q.insert!.run(a.name.toLowerCase(), a.scope, key, role, principal, a.principalType, a.description,
        a.createdOn, a.updatedOn, a.createdBy);
      this.q.bump!.run();
      return { created: true as const };
    }).immediate();
  }

  byName(name: string): RoleAssignment | undefined {
    const row = this.q.byName!.get(name.toLowerCase()) as AssignmentRow | undefined;
    return row && toAssignment(row);
  }

  delete(name: string): boolean {
    return this.db.transaction(() => {
      const removed = this.q.delete!.run(name.toLowerCase()).changes > 0;
      if (removed) this.q.bump!.run();
      return removed;
    }).immediate();
  }

  generation(): number {
    return this.q.generation!.pluck().get() as number;
  }

  ofPrincipal(principalId: string): RoleAssignment[] {
    return (this.q.ofPrincipal!.all(principalId.toLowerCase()) as AssignmentRow[]).map(toAssignment);
  }

  atOrBelow(scope: string): RoleAssignment[] {
    const key = scope.toLowerCase();
    const prefix = `${key}/`;
    return (this.q.atOrBelow!.all(key, key, prefix.length, prefix) as AssignmentRow[]).map(toAssignment);
  }

  atScopes(scopes: string[]): RoleAssignment[] {
    if (scopes.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM role_assignments WHERE scope_key IN (${scopes.map(() => '?').join(', ')}) ORDER BY created_on, name`)
      .all(...scopes.map((s) => s.toLowerCase())) as AssignmentRow[];
    return rows.map(toAssignment);
  }

  deleteWhere(query: { principalId?: string; scopePrefix?: string }): number {
    return this.db.transaction(() => {
      let removed = 0;
      if (query.principalId !== undefined) removed += this.q.deleteOfPrincipal!.run(query.principalId.toLowerCase()).changes;
      if (query.scopePrefix !== undefined) {
        const key = query.scopePrefix.toLowerCase();
        const prefix = `${key}/`;
        removed += this.q.deleteAtOrBelow!.run(key, prefix.length, prefix).changes;
      }
      if (removed > 0) this.q.bump!.run();
      return removed;
    }).immediate();
  }

  close(): void {
    this.db.close();
  }
}
