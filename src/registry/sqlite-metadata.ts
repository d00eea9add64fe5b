import type { Statement } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { openSqlite, type Migration, type Sqlite } from '../store/sqlite.js';
import type {
  DeleteManifestResult, Descriptor, ManifestRecord, MetadataStore, NewManifest, Page, PutManifestResult,
  RecordBlobResult, RegistryRecord, UploadRecord,
} from './metadata.js';
import type { Digest } from './names.js';

export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'registries, repositories, blobs, manifests, tags, uploads',
    up: `
      CREATE TABLE registries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        login_server TEXT NOT NULL UNIQUE,
        port INTEGER UNIQUE,
        anonymous_pull INTEGER NOT NULL DEFAULT 0,
        gc_untagged INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      );
      CREATE TABLE repositories (
        id INTEGER PRIMARY KEY,
        registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (registry_id, name)
      );
      CREATE TABLE blobs (
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        written_at INTEGER NOT NULL,
        deleting INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE repository_blobs (
        repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest TEXT NOT NULL REFERENCES blobs(digest),
        linked_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, digest)
      );
      CREATE INDEX repository_blobs_by_digest ON repository_blobs (digest);
      CREATE TABLE manifests (
        repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        media_type TEXT NOT NULL,
        artifact_type TEXT,
        subject TEXT,
        annotations TEXT,
        size INTEGER NOT NULL,
        content BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, digest)
      );
      CREATE INDEX manifests_by_subject ON manifests (repository_id, subject) WHERE subject IS NOT NULL;
      CREATE TABLE manifest_blobs (
        repository_id INTEGER NOT NULL,
        manifest_digest TEXT NOT NULL,
        blob_digest TEXT NOT NULL,
        PRIMARY KEY (repository_id, manifest_digest, blob_digest),
        FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      );
      CREATE INDEX manifest_blobs_by_blob ON manifest_blobs (repository_id, blob_digest);
      CREATE TABLE manifest_children (
        repository_id INTEGER NOT NULL,
        parent_digest TEXT NOT NULL,
        child_digest TEXT NOT NULL,
        PRIMARY KEY (repository_id, parent_digest, child_digest),
        FOREIGN KEY (repository_id, parent_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      );
      CREATE INDEX manifest_children_by_child ON manifest_children (repository_id, child_digest);
      CREATE TABLE tags (
        repository_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        digest TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, name),
        FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      );
      CREATE INDEX tags_by_digest ON tags (repository_id, digest);
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        size INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'the resource-manager id of a registry, the scope its role assignments are checked at',
    up: 'ALTER TABLE registries ADD COLUMN resource_id TEXT',
  },
  {
    version: 3,
    description: "ACR's changeable attributes of repositories, tags and manifests; they go with what they describe",
    up: `
      CREATE TABLE repository_attributes (
        repository_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
        read_enabled INTEGER NOT NULL DEFAULT 1, write_enabled INTEGER NOT NULL DEFAULT 1,
        delete_enabled INTEGER NOT NULL DEFAULT 1, list_enabled INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE tag_attributes (
        repository_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        read_enabled INTEGER NOT NULL DEFAULT 1, write_enabled INTEGER NOT NULL DEFAULT 1,
        delete_enabled INTEGER NOT NULL DEFAULT 1, list_enabled INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (repository_id, name),
        FOREIGN KEY (repository_id, name) REFERENCES tags (repository_id, name) ON DELETE CASCADE
      );
      CREATE TABLE manifest_attributes (
        repository_id INTEGER NOT NULL,
        digest TEXT NOT NULL,
        read_enabled INTEGER NOT NULL DEFAULT 1, write_enabled INTEGER NOT NULL DEFAULT 1,
        delete_enabled INTEGER NOT NULL DEFAULT 1, list_enabled INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (repository_id, digest),
        FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      );
    `,
  },
];

interface RegistryRow {
  id: number; name: string; login_server: string; port: number | null;
  anonymous_pull: number; gc_untagged: number; created_at: string; resource_id: string | null;
}

function toRegistry(r: RegistryRow): RegistryRecord {
  return {
    id: r.id, name: r.name, loginServer: r.login_server, port: r.port,
    anonymousPull: r.anonymous_pull === 1, gcUntagged: r.gc_untagged === 1, createdAt: r.created_at, resourceId: r.resource_id,
  };
}

const REPO_ID = '(SELECT id FROM repositories WHERE registry_id = ? AND name = ?)';

export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;

  constructor(private readonly file: string) {
    this.db = openSqlite(file, 'registry', REGISTRY_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      insertRegistry: p('INSERT INTO registries (name, login_server, port, anonymous_pull, resource_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *'),
      registryByName: p('SELECT * FROM registries WHERE name = ?'),
      registries: p('SELECT * FROM registries ORDER BY name'),
      deleteRegistry: p('DELETE FROM registries WHERE name = ?'),
      ensureRepository: p('INSERT INTO repositories (registry_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      repositoryId: p('SELECT id FROM repositories WHERE registry_id = ? AND name = ?'),
      repositoryHasManifests: p(`SELECT 1 FROM manifests WHERE repository_id = ${REPO_ID} LIMIT 1`),
      blob: p('SELECT size, deleting FROM blobs WHERE digest = ?'),
      insertBlob: p('INSERT INTO blobs (digest, size, written_at) VALUES (?, ?, ?)'),
      touchBlob: p('UPDATE blobs SET written_at = ? WHERE digest = ?'),
      link: p(`INSERT INTO repository_blobs (repository_id, digest, linked_at)
               SELECT ?, digest, ? FROM blobs WHERE digest = ? AND deleting = 0
               ON CONFLICT (repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at`),
      linked: p(`SELECT b.size FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
                 WHERE l.repository_id = ${REPO_ID} AND l.digest = ?`),
      unlink: p(`DELETE FROM repository_blobs WHERE repository_id = ${REPO_ID} AND digest = ?`),
      registryHasBlob: p(`SELECT 1 FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id
                          WHERE r.registry_id = ? AND l.digest = ? LIMIT 1`),
      linkedIn: p('SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?'),
      manifestIn: p('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?'),
      insertManifest: p(`INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, annotations, size, content, created_at)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      insertManifestBlob: p('INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      insertManifestChild: p('INSERT INTO manifest_children (repository_id, parent_digest, child_digest) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      upsertTag: p(`INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`),
      manifestByDigest: p(`SELECT digest, media_type, size, content FROM manifests WHERE repository_id = ${REPO_ID} AND digest = ?`),
      manifestByTag: p(`SELECT m.digest, m.media_type, m.size, m.content FROM tags t
                        JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
                        WHERE t.repository_id = ${REPO_ID} AND t.name = ?`),
      parentOf: p('SELECT parent_digest FROM manifest_children WHERE repository_id = ? AND child_digest = ? LIMIT 1'),
      deleteManifest: p('DELETE FROM manifests WHERE repository_id = ? AND digest = ?'),
      deleteTag: p(`DELETE FROM tags WHERE repository_id = ${REPO_ID} AND name = ?`),
      // listEnabled=false (ACR's changeable attribute) on a tag or its manifest hides the tag from listings.
      tags: p(`SELECT t.name FROM tags t WHERE t.repository_id = ${REPO_ID} AND t.name > ?
               AND NOT EXISTS (SELECT 1 FROM tag_attributes a WHERE a.repository_id = t.repository_id AND a.name = t.name AND a.list_enabled = 0)
               AND NOT EXISTS (SELECT 1 FROM manifest_attributes a WHERE a.repository_id = t.repository_id AND a.digest = t.digest AND a.list_enabled = 0)
               ORDER BY t.name LIMIT ?`),
      repositories: p(`SELECT r.name FROM repositories r WHERE r.registry_id = ? AND r.name > ?
                       AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
                       AND NOT EXISTS (SELECT 1 FROM repository_attributes a WHERE a.repository_id = r.id AND a.list_enabled = 0) ORDER BY r.name LIMIT ?`),
      referrers: p(`SELECT media_type, digest, size, artifact_type, annotations FROM manifests
                    WHERE repository_id = ${REPO_ID} AND subject = ? ORDER BY created_at, digest`),
      insertUpload: p('INSERT INTO uploads (id, repository_id, created_at) VALUES (?, ?, ?)'),
      upload: p(`SELECT u.id, r.registry_id, r.name AS repository, u.size, u.created_at FROM uploads u
                 JOIN repositories r ON r.id = u.repository_id WHERE u.id = ?`),
      setUploadSize: p('UPDATE uploads SET size = ? WHERE id = ?'),
      deleteUpload: p('DELETE FROM uploads WHERE id = ?'),
      uploadsBefore: p('SELECT id FROM uploads WHERE created_at < ?'),
      untagged: p(`SELECT r.registry_id, r.name AS repository, m.digest FROM manifests m
                   JOIN repositories r ON r.id = m.repository_id
                   JOIN registries g ON g.id = r.registry_id AND g.gc_untagged = 1
                   WHERE m.created_at < ?
                     AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)
                     AND NOT EXISTS (SELECT 1 FROM manifest_children c WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest)
                     AND (m.subject IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject))`),
      deleteUnreferencedLinks: p(`DELETE FROM repository_blobs WHERE linked_at < ?
                                  AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.repository_id = repository_blobs.repository_id AND mb.blob_digest = repository_blobs.digest)`),
      orphanBlobs: p(`SELECT digest, size FROM blobs b WHERE (b.deleting = 1 OR b.written_at < ?)
                      AND NOT EXISTS (SELECT 1 FROM repository_blobs l WHERE l.digest = b.digest) LIMIT ?`),
      markDeleting: p('UPDATE blobs SET deleting = 1 WHERE digest = ?'),
      deleteBlob: p('DELETE FROM blobs WHERE digest = ? AND deleting = 1'),
    };
  }

  async createRegistry(r: { name: string; loginServer: string; port: number | null; anonymousPull?: boolean; resourceId?: string | null }): Promise<RegistryRecord> {
    const row = this.q.insertRegistry!.get(r.name, r.loginServer, r.port, r.anonymousPull ? 1 : 0, r.resourceId ?? null, new Date().toISOString()) as RegistryRow;
    return toRegistry(row);
  }

  async updateRegistry(name: string, patch: { anonymousPull?: boolean; gcUntagged?: boolean; resourceId?: string }): Promise<RegistryRecord | undefined> {
    const sets: string[] = [];
    const values: Array<number | string> = [];
    if (patch.anonymousPull !== undefined) { sets.push('anonymous_pull = ?'); values.push(patch.anonymousPull ? 1 : 0); }
    if (patch.gcUntagged !== undefined) { sets.push('gc_untagged = ?'); values.push(patch.gcUntagged ? 1 : 0); }
    if (patch.resourceId !== undefined) { sets.push('resource_id = ?'); values.push(patch.resourceId); }
    if (sets.length === 0) return this.getRegistry(name);
    const row = this.db.prepare(`UPDATE registries SET ${sets.join(', ')} WHERE name = ? RETURNING *`).get(...values, name) as RegistryRow | undefined;
    return row && toRegistry(row);
  }

  async getRegistry(name: string): Promise<RegistryRecord | undefined> {
    const row = this.q.registryByName!.get(name) as RegistryRow | undefined;
    return row && toRegistry(row);
  }

  async listRegistries(): Promise<RegistryRecord[]> {
    return (this.q.registries!.all() as RegistryRow[]).map(toRegistry);
  }

  async deleteRegistry(name: string): Promise<boolean> {
    return this.q.deleteRegistry!.run(name).changes > 0;
  }

  async recordBlob(digest: Digest, size: number): Promise<RecordBlobResult> {
    return this.db.transaction((): RecordBlobResult => {
      const row = this.q.blob!.get(digest) as { size: number; deleting: number } | undefined;
      if (row?.deleting) return 'being-deleted';
      if (row) {
        this.q.touchBlob!.run(Date.now(), digest);
        return 'existing';
      }
      this.q.insertBlob!.run(digest, size, Date.now());
      return 'new';
    }).immediate();
  }

  async linkBlob(registryId: number, repository: string, digest: Digest): Promise<boolean> {
    return this.db.transaction(() => this.q.link!.run(this.repositoryId(registryId, repository), Date.now(), digest).changes > 0).immediate();
  }

  async getLinkedBlob(registryId: number, repository: string, digest: Digest): Promise<{ size: number } | undefined> {
    return this.q.linked!.get(registryId, repository, digest) as { size: number } | undefined;
  }

  async unlinkBlob(registryId: number, repository: string, digest: Digest): Promise<boolean> {
    return this.q.unlink!.run(registryId, repository, digest).changes > 0;
  }

  async registryHasBlob(registryId: number, digest: Digest): Promise<boolean> {
    return this.q.registryHasBlob!.get(registryId, digest) !== undefined;
  }

  async putManifest(registryId: number, repository: string, m: NewManifest): Promise<PutManifestResult> {
    return this.db.transaction((): PutManifestResult => {
      // Looked up, not created: a refused push must leave no repository behind.
      const existing = this.q.repositoryId!.pluck().get(registryId, repository) as number | undefined;
      const missingBlobs = m.blobs.filter((d) => existing === undefined || this.q.linkedIn!.get(existing, d) === undefined);
      const missingManifests = m.children.filter((d) => existing === undefined || this.q.manifestIn!.get(existing, d) === undefined);
      if (missingBlobs.length || missingManifests.length) return { ok: false, missingBlobs, missingManifests };
      const repo = existing ?? this.repositoryId(registryId, repository);
      const now = Date.now();
      this.q.insertManifest!.run(repo, m.digest, m.mediaType, m.artifactType, m.subject,
        m.annotations ? JSON.stringify(m.annotations) : null, m.content.length, m.content, now);
      for (const b of m.blobs) this.q.insertManifestBlob!.run(repo, m.digest, b);
      for (const c of m.children) this.q.insertManifestChild!.run(repo, m.digest, c);
      if (m.tag !== undefined) this.q.upsertTag!.run(repo, m.tag, m.digest, now);
      return { ok: true };
    }).immediate();
  }

  async getManifest(registryId: number, repository: string, reference: { tag?: string; digest?: Digest }): Promise<ManifestRecord | undefined> {
    const row = (reference.digest !== undefined
      ? this.q.manifestByDigest!.get(registryId, repository, reference.digest)
      : this.q.manifestByTag!.get(registryId, repository, reference.tag)) as
      { digest: Digest; media_type: string; size: number; content: Buffer } | undefined;
    return row && { digest: row.digest, mediaType: row.media_type, size: row.size, content: row.content };
  }

  async deleteManifest(registryId: number, repository: string, digest: Digest): Promise<DeleteManifestResult> {
    return this.db.transaction((): DeleteManifestResult => {
      const repo = this.q.repositoryId!.pluck().get(registryId, repository) as number | undefined;
      if (repo === undefined) return 'unknown';
      const parent = this.q.parentOf!.pluck().get(repo, digest) as Digest | undefined;
      if (parent !== undefined) return { referencedBy: parent };
      return this.q.deleteManifest!.run(repo, digest).changes > 0 ? 'deleted' : 'unknown';
    }).immediate();
  }

  async deleteTag(registryId: number, repository: string, tag: string): Promise<boolean> {
    return this.q.deleteTag!.run(registryId, repository, tag).changes > 0;
  }

  async repositoryHasManifests(registryId: number, repository: string): Promise<boolean> {
    return this.q.repositoryHasManifests!.get(registryId, repository) !== undefined;
  }

  async listTags(registryId: number, repository: string, page: Page): Promise<string[]> {
    return this.q.tags!.pluck().all(registryId, repository, page.last ?? '', page.n ?? -1) as string[];
  }

  async listRepositories(registryId: number, page: Page): Promise<string[]> {
    return this.q.repositories!.pluck().all(registryId, page.last ?? '', page.n ?? -1) as string[];
  }

  async listReferrers(registryId: number, repository: string, subject: Digest): Promise<Descriptor[]> {
    const rows = this.q.referrers!.all(registryId, repository, subject) as
      Array<{ media_type: string; digest: Digest; size: number; artifact_type: string | null; annotations: string | null }>;
    return rows.map((r) => ({
      mediaType: r.media_type, digest: r.digest, size: r.size,
      ...(r.artifact_type ? { artifactType: r.artifact_type } : {}),
      ...(r.annotations ? { annotations: JSON.parse(r.annotations) as Record<string, string> } : {}),
    }));
  }

  async createUpload(u: { id: string; registryId: number; repository: string }): Promise<void> {
    this.db.transaction(() => {
      this.q.insertUpload!.run(u.id, this.repositoryId(u.registryId, u.repository), Date.now());
    }).immediate();
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = this.q.upload!.get(id) as { id: string; registry_id: number; repository: string; size: number; created_at: number } | undefined;
    return row && { id: row.id, registryId: row.registry_id, repository: row.repository, size: row.size, createdAt: row.created_at };
  }

  async setUploadSize(id: string, size: number): Promise<void> {
    this.q.setUploadSize!.run(size, id);
  }

  async deleteUpload(id: string): Promise<void> {
    this.q.deleteUpload!.run(id);
  }

  async listUploadsBefore(createdBefore: number): Promise<string[]> {
    return this.q.uploadsBefore!.pluck().all(createdBefore) as string[];
  }

  async untaggedManifests(olderThan: number): Promise<Array<{ registryId: number; repository: string; digest: Digest }>> {
    return (this.q.untagged!.all(olderThan) as Array<{ registry_id: number; repository: string; digest: Digest }>)
      .map((r) => ({ registryId: r.registry_id, repository: r.repository, digest: r.digest }));
  }

  async unlinkUnreferencedBlobs(olderThan: number): Promise<number> {
    return this.q.deleteUnreferencedLinks!.run(olderThan).changes;
  }

  async beginBlobDeletion(olderThan: number, limit: number): Promise<Array<{ digest: Digest; size: number }>> {
    return this.db.transaction(() => {
      const rows = this.q.orphanBlobs!.all(olderThan, limit) as Array<{ digest: Digest; size: number }>;
      for (const r of rows) this.q.markDeleting!.run(r.digest);
      return rows;
    }).immediate();
  }

  async finishBlobDeletion(digests: Digest[]): Promise<void> {
    this.db.transaction(() => { for (const d of digests) this.q.deleteBlob!.run(d); }).immediate();
  }

  async rehearse<T>(work: (view: MetadataStore) => Promise<T>): Promise<T> {
    // On a copy made from a read snapshot: holding this database's write lock for the whole rehearsal would
    // stall every push (better-sqlite3 waits synchronously), and nothing done to the copy can reach this one.
    const copy = `${this.file}.rehearsal-${randomUUID()}`;
    this.db.prepare('VACUUM INTO ?').run(copy);
    const view = new SqliteMetadataStore(copy);
    try {
      return await work(view);
    } finally {
      view.close();
      for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(f, { force: true });
    }
  }

  close(): void {
    this.db.close();
  }

  private repositoryId(registryId: number, repository: string): number {
    this.q.ensureRepository!.run(registryId, repository, Date.now());
    return this.q.repositoryId!.pluck().get(registryId, repository) as number;
  }
}
