import type { Statement } from 'better-sqlite3';
import { openSqlite, type Migration, type Sqlite } from '../store/sqlite.js';
import type { ResourceGroupRecord, ResourceRecord, ResourceStore, SubscriptionRecord } from './resource-store.js';

export const ARM_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'subscriptions, resource groups, tracked resources',
    up: `
      CREATE TABLE subscriptions (
        subscription_id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        state TEXT NOT NULL
      );
      CREATE TABLE resource_groups (
        subscription_id TEXT NOT NULL REFERENCES subscriptions(subscription_id),
        name_key TEXT NOT NULL,
        name TEXT NOT NULL,
        location TEXT NOT NULL,
        tags TEXT NOT NULL,
        PRIMARY KEY (subscription_id, name_key)
      );
      CREATE TABLE resources (
        subscription_id TEXT NOT NULL,
        group_key TEXT NOT NULL,
        type_key TEXT NOT NULL,
        name_key TEXT NOT NULL,
        resource_group TEXT NOT NULL,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        location TEXT NOT NULL,
        tags TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (subscription_id, group_key, type_key, name_key),
        FOREIGN KEY (subscription_id, group_key) REFERENCES resource_groups (subscription_id, name_key)
      );
      CREATE INDEX resources_by_name ON resources (type_key, name_key);
    `,
  },
];

interface ResourceRow {
  subscription_id: string; resource_group: string; type: string; name: string; location: string; tags: string; state: string; created_at: string;
}

function toResource(r: ResourceRow): ResourceRecord {
  return {
    subscriptionId: r.subscription_id, resourceGroup: r.resource_group, type: r.type, name: r.name, location: r.location,
    tags: JSON.parse(r.tags) as Record<string, string>, state: JSON.parse(r.state) as unknown, createdAt: r.created_at,
  };
}

function toGroup(r: { subscription_id: string; name: string; location: string; tags: string }): ResourceGroupRecord {
  return { subscriptionId: r.subscription_id, name: r.name, location: r.location, tags: JSON.parse(r.tags) as Record<string, string> };
}

const key = (s: string): string => s.toLowerCase();

/** The resource manager's tables in the shared SQLite file (plane "arm"). */
export class SqliteResourceStore implements ResourceStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;

  constructor(file: string) {
    this.db = openSqlite(file, 'arm', ARM_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      putSubscription: p(`INSERT INTO subscriptions (subscription_id, display_name, tenant_id, state) VALUES (?, ?, ?, ?)
                          ON CONFLICT (subscription_id) DO UPDATE SET display_name = excluded.display_name, state = excluded.state`),
      subscription: p('SELECT * FROM subscriptions WHERE subscription_id = ?'),
      subscriptions: p('SELECT * FROM subscriptions ORDER BY display_name, subscription_id'),
      groupExists: p('SELECT 1 FROM resource_groups WHERE subscription_id = ? AND name_key = ?'),
      putGroup: p(`INSERT INTO resource_groups (subscription_id, name_key, name, location, tags) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (subscription_id, name_key) DO UPDATE SET tags = excluded.tags`),
      group: p('SELECT * FROM resource_groups WHERE subscription_id = ? AND name_key = ?'),
      groups: p('SELECT * FROM resource_groups WHERE subscription_id = ? ORDER BY name_key'),
      deleteGroup: p('DELETE FROM resource_groups WHERE subscription_id = ? AND name_key = ?'),
      resourceExists: p('SELECT 1 FROM resources WHERE subscription_id = ? AND group_key = ? AND type_key = ? AND name_key = ?'),
      putResource: p(`INSERT INTO resources (subscription_id, group_key, type_key, name_key, resource_group, type, name, location, tags, state, created_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                      ON CONFLICT (subscription_id, group_key, type_key, name_key) DO UPDATE SET tags = excluded.tags, state = excluded.state`),
      resource: p('SELECT * FROM resources WHERE subscription_id = ? AND group_key = ? AND type_key = ? AND name_key = ?'),
      resourceByName: p('SELECT * FROM resources WHERE type_key = ? AND name_key = ?'),
      resources: p(`SELECT * FROM resources WHERE subscription_id = @sub AND (@grp IS NULL OR group_key = @grp) AND (@type IS NULL OR type_key = @type)
                    ORDER BY group_key, type_key, name_key`),
      deleteResource: p('DELETE FROM resources WHERE subscription_id = ? AND group_key = ? AND type_key = ? AND name_key = ?'),
    };
  }

  putSubscription(s: SubscriptionRecord): void {
    this.q.putSubscription!.run(key(s.subscriptionId), s.displayName, s.tenantId, s.state);
  }

  subscription(id: string): SubscriptionRecord | undefined {
    const row = this.q.subscription!.get(key(id)) as { subscription_id: string; display_name: string; tenant_id: string; state: 'Enabled' } | undefined;
    return row && { subscriptionId: row.subscription_id, displayName: row.display_name, tenantId: row.tenant_id, state: row.state };
  }

  subscriptions(): SubscriptionRecord[] {
    return (this.q.subscriptions!.all() as Array<{ subscription_id: string }>).map((r) => this.subscription(r.subscription_id)!);
  }

  putResourceGroup(g: ResourceGroupRecord): boolean {
    return this.db.transaction(() => {
      const isNew = this.q.groupExists!.get(key(g.subscriptionId), key(g.name)) === undefined;
      this.q.putGroup!.run(key(g.subscriptionId), key(g.name), g.name, g.location, JSON.stringify(g.tags));
      return isNew;
    }).immediate();
  }

  resourceGroup(subscriptionId: string, name: string): ResourceGroupRecord | undefined {
    const row = this.q.group!.get(key(subscriptionId), key(name)) as Parameters<typeof toGroup>[0] | undefined;
    return row && toGroup(row);
  }

  resourceGroups(subscriptionId: string): ResourceGroupRecord[] {
    return (this.q.groups!.all(key(subscriptionId)) as Array<Parameters<typeof toGroup>[0]>).map(toGroup);
  }

  deleteResourceGroup(subscriptionId: string, name: string): boolean {
    return this.q.deleteGroup!.run(key(subscriptionId), key(name)).changes > 0;
  }

  putResource(r: ResourceRecord): boolean {
    return this.db.transaction(() => {
      const ids = [key(r.subscriptionId), key(r.resourceGroup), key(r.type), key(r.name)];
      const isNew = this.q.resourceExists!.get(...ids) === undefined;
      this.q.putResource!.run(...ids, r.resourceGroup, r.type, r.name, r.location, JSON.stringify(r.tags), JSON.stringify(r.state), r.createdAt);
      return isNew;
    }).immediate();
  }

  resource(subscriptionId: string, resourceGroup: string, type: string, name: string): ResourceRecord | undefined {
    const row = this.q.resource!.get(key(subscriptionId), key(resourceGroup), key(type), key(name)) as ResourceRow | undefined;
    return row && toResource(row);
  }

  resourceByName(type: string, name: string): ResourceRecord | undefined {
    const row = this.q.resourceByName!.get(key(type), key(name)) as ResourceRow | undefined;
    return row && toResource(row);
  }

  resources(query: { subscriptionId: string; resourceGroup?: string; type?: string }): ResourceRecord[] {
    const rows = this.q.resources!.all({
      sub: key(query.subscriptionId),
      grp: query.resourceGroup === undefined ? null : key(query.resourceGroup),
      type: query.type === undefined ? null : key(query.type),
    }) as ResourceRow[];
    return rows.map(toResource);
  }

  deleteResource(subscriptionId: string, resourceGroup: string, type: string, name: string): boolean {
    return this.q.deleteResource!.run(key(subscriptionId), key(resourceGroup), key(type), key(name)).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
