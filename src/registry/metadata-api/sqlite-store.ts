import type { Statement } from 'better-sqlite3';
import { openSqlite, type Sqlite } from '../../store/sqlite.js';
import type { Digest } from '../names.js';
import { REGISTRY_MIGRATIONS } from '../sqlite-metadata.js';
import type { AttributeTarget, ChangeableAttributes, ManifestDetails, MetadataApiStore, RepositoryRecord, Restrictions, TagRecord } from './store.js';

const REPO_ID = '(SELECT id FROM repositories WHERE registry_id = ? AND name = ?)';
const FLAGS = 'read_enabled, write_enabled, delete_enabled, list_enabled';
const FORBIDS = '(read_enabled = 0 OR write_enabled = 0 OR delete_enabled = 0 OR list_enabled = 0)';
const COLUMN: Record<keyof ChangeableAttributes, string> = {
  readEnabled: 'read_enabled', writeEnabled: 'write_enabled', deleteEnabled: 'delete_enabled', listEnabled: 'list_enabled',
};

interface Flags { read_enabled: number | null; write_enabled: number | null; delete_enabled: number | null; list_enabled: number | null }

/** A missing attribute row means everything is enabled. */
function attributes(f: Flags): ChangeableAttributes {
  return { deleteEnabled: f.delete_enabled !== 0, writeEnabled: f.write_enabled !== 0, readEnabled: f.read_enabled !== 0, listEnabled: f.list_enabled !== 0 };
}

/** The metadata API's queries, on a connection of its own to the registry plane's database file. */
export class SqliteMetadataApiStore implements MetadataApiStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;

  constructor(file: string) {
    this.db = openSqlite(file, 'registry', REGISTRY_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      repository: p(`SELECT r.id, r.name, r.created_at,
                       (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id) AS manifest_count,
                       (SELECT count(*) FROM tags t WHERE t.repository_id = r.id) AS tag_count,
                       max(r.created_at, coalesce((SELECT max(created_at) FROM manifests m WHERE m.repository_id = r.id), 0),
                           coalesce((SELECT max(updated_at) FROM tags t WHERE t.repository_id = r.id), 0)) AS last_updated,
                       a.read_enabled, a.write_enabled, a.delete_enabled, a.list_enabled
                     FROM repositories r LEFT JOIN repository_attributes a ON a.repository_id = r.id
                     WHERE r.registry_id = ? AND r.name = ?`),
      tags: p(`SELECT t.name, t.digest, t.updated_at, a.read_enabled, a.write_enabled, a.delete_enabled, a.list_enabled
               FROM tags t LEFT JOIN tag_attributes a ON a.repository_id = t.repository_id AND a.name = t.name
               WHERE t.repository_id = ${REPO_ID} ORDER BY t.name`),
      tag: p(`SELECT t.name, t.digest, t.updated_at, a.read_enabled, a.write_enabled, a.delete_enabled, a.list_enabled
              FROM tags t LEFT JOIN tag_attributes a ON a.repository_id = t.repository_id AND a.name = t.name
              WHERE t.repository_id = ${REPO_ID} AND t.name = ?`),
      manifests: p(`SELECT m.digest, m.media_type, m.size, m.content, m.created_at,
                      (SELECT json_group_array(t.name) FROM (SELECT name FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest ORDER BY name) t) AS tags,
                      a.read_enabled, a.write_enabled, a.delete_enabled, a.list_enabled
                    FROM manifests m LEFT JOIN manifest_attributes a ON a.repository_id = m.repository_id AND a.digest = m.digest
                    WHERE m.repository_id = ${REPO_ID} AND (? IS NULL OR m.digest = ?) ORDER BY m.digest`),
      restrictions: p(`SELECT 'repository' AS kind, '' AS ref, ${FLAGS} FROM repository_attributes WHERE repository_id = ${REPO_ID} AND ${FORBIDS}
                       UNION ALL SELECT 'tag', name, ${FLAGS} FROM tag_attributes WHERE repository_id = ${REPO_ID} AND ${FORBIDS}
                       UNION ALL SELECT 'manifest', digest, ${FLAGS} FROM manifest_attributes WHERE repository_id = ${REPO_ID} AND ${FORBIDS}`),
      repositoryId: p('SELECT id FROM repositories WHERE registry_id = ? AND name = ?'),
      tagExists: p('SELECT 1 FROM tags WHERE repository_id = ? AND name = ?'),
      manifestExists: p('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?'),
    };
  }

  async repository(registryId: number, repository: string): Promise<RepositoryRecord | undefined> {
    const row = this.q.repository!.get(registryId, repository) as
      (Flags & { name: string; created_at: number; manifest_count: number; tag_count: number; last_updated: number }) | undefined;
    if (!row || row.manifest_count === 0) return undefined;
    return {
      name: row.name, createdAt: row.created_at, lastUpdatedAt: row.last_updated,
      manifestCount: row.manifest_count, tagCount: row.tag_count, attributes: attributes(row),
    };
  }

  async tags(registryId: number, repository: string): Promise<TagRecord[]> {
    return (this.q.tags!.all(registryId, repository) as Array<Flags & { name: string; digest: Digest; updated_at: number }>).map(toTag);
  }

  async tag(registryId: number, repository: string, tag: string): Promise<TagRecord | undefined> {
    const row = this.q.tag!.get(registryId, repository, tag) as (Flags & { name: string; digest: Digest; updated_at: number }) | undefined;
    return row && toTag(row);
  }

  async manifests(registryId: number, repository: string): Promise<ManifestDetails[]> {
    return this.manifestRows(registryId, repository, null);
  }

  async manifest(registryId: number, repository: string, digest: Digest): Promise<ManifestDetails | undefined> {
    return this.manifestRows(registryId, repository, digest)[0];
  }

  async setAttributes(registryId: number, repository: string, target: AttributeTarget, patch: Partial<ChangeableAttributes>): Promise<boolean> {
    return this.db.transaction((): boolean => {
      const repo = this.q.repositoryId!.pluck().get(registryId, repository) as number | undefined;
      if (repo === undefined) return false;
      const table = target.kind === 'repository' ? 'repository_attributes' : target.kind === 'tag' ? 'tag_attributes' : 'manifest_attributes';
      const keys: Array<string | number> = [repo];
      if (target.kind === 'tag') {
        if (this.q.tagExists!.get(repo, target.tag) === undefined) return false;
        keys.push(target.tag);
      } else if (target.kind === 'manifest') {
        if (this.q.manifestExists!.get(repo, target.digest) === undefined) return false;
        keys.push(target.digest);
      }
      const keyColumns = ['repository_id', ...(target.kind === 'tag' ? ['name'] : target.kind === 'manifest' ? ['digest'] : [])];
      const given = (Object.keys(COLUMN) as Array<keyof ChangeableAttributes>).filter((k) => patch[k] !== undefined);
      const where = keyColumns.map((c) => `${c} = ?`).join(' AND ');
      this.db.prepare(`INSERT INTO ${table} (${keyColumns.join(', ')}) VALUES (${keyColumns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`).run(...keys);
      if (given.length) {
        this.db.prepare(`UPDATE ${table} SET ${given.map((k) => `${COLUMN[k]} = ?`).join(', ')} WHERE ${where}`)
          .run(...given.map((k) => (patch[k] ? 1 : 0)), ...keys);
      }
      return true;
    }).immediate();
  }

  async restrictions(registryId: number, repository: string): Promise<Restrictions | undefined> {
    const rows = this.q.restrictions!.all(registryId, repository, registryId, repository, registryId, repository) as Array<Flags & { kind: string; ref: string }>;
    if (rows.length === 0) return undefined;
    const found: Restrictions = { tags: new Map(), manifests: new Map() };
    for (const r of rows) {
      if (r.kind === 'repository') found.repository = attributes(r);
      else (r.kind === 'tag' ? found.tags : found.manifests).set(r.ref, attributes(r));
    }
    return found;
  }

  close(): void {
    this.db.close();
  }

  private manifestRows(registryId: number, repository: string, digest: Digest | null): ManifestDetails[] {
    const rows = this.q.manifests!.all(registryId, repository, digest, digest) as
      Array<Flags & { digest: Digest; media_type: string; size: number; content: Buffer; created_at: number; tags: string }>;
    return rows.map((r) => ({
      digest: r.digest, mediaType: r.media_type, size: r.size, content: r.content, createdAt: r.created_at,
      tags: JSON.parse(r.tags) as string[], attributes: attributes(r),
    }));
  }
}

function toTag(r: Flags & { name: string; digest: Digest; updated_at: number }): TagRecord {
  return { name: r.name, digest: r.digest, updatedAt: r.updated_at, attributes: attributes(r) };
}
