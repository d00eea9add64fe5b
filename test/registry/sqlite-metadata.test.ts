import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { NewManifest, RegistryRecord } from '../../src/registry/metadata.js';
import type { Digest } from '../../src/registry/names.js';
import { REGISTRY_MIGRATIONS, SqliteMetadataStore } from '../../src/registry/sqlite-metadata.js';
import { openSqlite, type Migration } from '../../src/store/sqlite.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

function digestOf(content: string | Buffer): Digest {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** A manifest record as the manifest service would hand it over; its content is unique per `label`. */
function manifest(label: string, parts: Partial<Omit<NewManifest, 'digest' | 'content'>> = {}): NewManifest {
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, label, ...parts }));
  return {
    digest: digestOf(content), mediaType: OCI_MANIFEST, artifactType: null, subject: null, annotations: null,
    content, blobs: [], children: [], ...parts,
  };
}

describe('SqliteMetadataStore', () => {
  let dir: string;
  let file: string;
  let db: SqliteMetadataStore;
  let registry: RegistryRecord;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-meta-'));
    file = join(dir, 'anchorage.db');
    db = new SqliteMetadataStore(file);
    registry = await db.createRegistry({ name: 'first', loginServer: 'localhost:5001', port: 5001 });
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stores and links a blob to a repository, as a finished upload does. */
  async function pushBlob(repository: string, content: string, r: RegistryRecord = registry): Promise<Digest> {
    const digest = digestOf(content);
    await db.recordBlob(digest, content.length);
    assert.equal(await db.linkBlob(r.id, repository, digest), true);
    return digest;
  }

  /** An image manifest whose config and layer are pushed to the repository first. */
  async function pushImage(repository: string, label: string, extra: Partial<NewManifest> = {}): Promise<NewManifest> {
    const m = manifest(label, { blobs: [await pushBlob(repository, `${label} config`), await pushBlob(repository, `${label} layer`)], ...extra });
    assert.deepEqual(await db.putManifest(registry.id, repository, m), { ok: true });
    return m;
  }

  describe('migrations', () => {
    it('records each applied version once, and re-opening applies nothing again and keeps the data', async () => {
      db.close();
      db = new SqliteMetadataStore(file);
      db.close();
      db = new SqliteMetadataStore(file);
      const raw = new Database(file, { readonly: true });
      try {
        const versions = raw.prepare("SELECT version, description FROM schema_migrations WHERE plane = 'registry' ORDER BY version").all();
        assert.deepEqual(versions, REGISTRY_MIGRATIONS.map((m) => ({ version: m.version, description: m.description })));
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        raw.close();
      }
      assert.equal((await db.getRegistry('first'))?.loginServer, 'localhost:5001');
    });

    it('applies only the pending migrations, in version order', () => {
      const path = join(dir, 'versions.db');
      const v1: Migration = { version: 1, description: 'one', up: 'CREATE TABLE one (x INTEGER)' };
      const v2: Migration = { version: 2, description: 'two', up: 'CREATE TABLE two (x INTEGER); INSERT INTO one VALUES (2)' };
      const v3: Migration = { version: 3, description: 'three', up: 'ALTER TABLE two ADD COLUMN y TEXT' };
      openSqlite(path, 'test', [v1]).close();
      // Out of order in the list: 3 depends on 2, and 1 would fail if it ran again.
      const s = openSqlite(path, 'test', [v3, v1, v2]);
      try {
        assert.deepEqual(s.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), [1, 2, 3]);
        assert.deepEqual(s.prepare('SELECT x FROM one').pluck().all(), [2]);
        assert.deepEqual(s.prepare('SELECT name FROM pragma_table_info(\'two\') ORDER BY cid').pluck().all(), ['x', 'y']);
      } finally {
        s.close();
      }
    });

    it('numbers each plane\'s migrations separately in the shared file', () => {
      const path = join(dir, 'planes.db');
      openSqlite(path, 'alpha', [{ version: 1, description: 'alpha one', up: 'CREATE TABLE alpha (x INTEGER)' }]).close();
      const s = openSqlite(path, 'beta', [{ version: 1, description: 'beta one', up: 'CREATE TABLE beta (x INTEGER)' }]);
      try {
        assert.deepEqual(s.prepare('SELECT plane, version FROM schema_migrations ORDER BY plane').all(),
          [{ plane: 'alpha', version: 1 }, { plane: 'beta', version: 1 }]);
      } finally {
        s.close();
      }
    });

    it('a failing migration leaves the previous schema intact and is retried on the next open', () => {
      const path = join(dir, 'failing.db');
      const v1: Migration = { version: 1, description: 'one', up: 'CREATE TABLE one (x INTEGER)' };
      const broken: Migration = { version: 2, description: 'two', up: 'CREATE TABLE two (x INTEGER); INSERT INTO nowhere VALUES (1)' };
      assert.throws(() => openSqlite(path, 'test', [v1, broken]), /nowhere/);
      const check = new Database(path);
      try {
        assert.deepEqual(check.prepare('SELECT version FROM schema_migrations').pluck().all(), [1]);
        assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE name = 'two'").all(), []);
      } finally {
        check.close();
      }
      const fixed = openSqlite(path, 'test', [v1, { ...broken, up: 'CREATE TABLE two (x INTEGER)' }]);
      assert.deepEqual(fixed.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), [1, 2]);
      fixed.close();
    });

    it('several processes opening a fresh database at once migrate it once, none fails', async () => {
      const path = join(dir, 'race.db');
      const module = new URL('../../src/registry/sqlite-metadata.js', import.meta.url).href;
      const script = `const { SqliteMetadataStore } = await import(${JSON.stringify(module)});
        new SqliteMetadataStore(${JSON.stringify(path)}).close();`;
      const run = promisify(execFile);
      await Promise.all(Array.from({ length: 6 }, () => run(process.execPath, ['--input-type=module', '-e', script])));
      const check = new Database(path, { readonly: true });
      try {
        assert.deepEqual(check.prepare("SELECT version FROM schema_migrations WHERE plane = 'registry'").pluck().all(),
          REGISTRY_MIGRATIONS.map((m) => m.version));
      } finally {
        check.close();
      }
    });
  });

  describe('registries', () => {
    it('creates, updates, lists and deletes registries; deleting one removes its repositories', async () => {
      assert.equal(registry.anonymousPull, false);
      assert.equal(registry.gcUntagged, false);
      const second = await db.createRegistry({ name: 'second', loginServer: 'localhost:5002', port: 5002, anonymousPull: true });
      assert.equal(second.anonymousPull, true);
      assert.deepEqual((await db.listRegistries()).map((r) => r.name), ['first', 'second']);
      const updated = await db.updateRegistry('first', { gcUntagged: true });
      assert.equal(updated?.gcUntagged, true);
      assert.equal(updated?.anonymousPull, false);
      assert.equal(await db.updateRegistry('missing', { gcUntagged: true }), undefined);
      await pushImage('app', 'v1', { tag: 'latest' });
      assert.equal(await db.deleteRegistry('first'), true);
      assert.equal(await db.deleteRegistry('first'), false);
      assert.equal(await db.getRegistry('first'), undefined);
      assert.equal(await db.repositoryHasManifests(registry.id, 'app'), false);
    });

    it('refuses a second registry with the same name or port', async () => {
      await assert.rejects(db.createRegistry({ name: 'first', loginServer: 'localhost:5009', port: 5009 }), /UNIQUE/);
      await assert.rejects(db.createRegistry({ name: 'other', loginServer: 'localhost:5001', port: 5001 }), /UNIQUE/);
    });
  });

  describe('blob links', () => {
    it('a blob pushed to one repository is not in another, nor in another registry', async () => {
      const other = await db.createRegistry({ name: 'second', loginServer: 'localhost:5002', port: 5002 });
      const digest = await pushBlob('team/a', 'shared layer');
      assert.deepEqual(await db.getLinkedBlob(registry.id, 'team/a', digest), { size: 12 });
      assert.equal(await db.getLinkedBlob(registry.id, 'team/b', digest), undefined);
      assert.equal(await db.getLinkedBlob(other.id, 'team/a', digest), undefined);
      assert.equal(await db.registryHasBlob(registry.id, digest), true);
      assert.equal(await db.registryHasBlob(other.id, digest), false);
    });

    it('linking into a second repository (a mount) makes it readable there; unlinking affects that repository only', async () => {
      const digest = await pushBlob('a', 'layer');
      assert.equal(await db.linkBlob(registry.id, 'b', digest), true);
      assert.deepEqual(await db.getLinkedBlob(registry.id, 'b', digest), { size: 5 });
      assert.equal(await db.unlinkBlob(registry.id, 'a', digest), true);
      assert.equal(await db.unlinkBlob(registry.id, 'a', digest), false);
      assert.equal(await db.getLinkedBlob(registry.id, 'a', digest), undefined);
      assert.deepEqual(await db.getLinkedBlob(registry.id, 'b', digest), { size: 5 });
    });

    it('cannot link content that is not stored', async () => {
      const digest = digestOf('never stored');
      assert.equal(await db.linkBlob(registry.id, 'a', digest), false);
      assert.equal(await db.getLinkedBlob(registry.id, 'a', digest), undefined);
      assert.equal(await db.registryHasBlob(registry.id, digest), false);
    });

    it('recordBlob says new, then existing, and being-deleted while gc marks the digest; linking waits for the mark too', async () => {
      const digest = digestOf('orphan');
      assert.equal(await db.recordBlob(digest, 6), 'new');
      assert.equal(await db.recordBlob(digest, 6), 'existing');
      const marked = await db.beginBlobDeletion(Date.now() + 1_000, 10);
      assert.deepEqual(marked, [{ digest, size: 6 }]);
      assert.equal(await db.recordBlob(digest, 6), 'being-deleted');
      assert.equal(await db.linkBlob(registry.id, 'a', digest), false, 'a mount must not link content being deleted');
      await db.finishBlobDeletion([digest]);
      assert.equal(await db.recordBlob(digest, 6), 'new');
      assert.equal(await db.linkBlob(registry.id, 'a', digest), true);
    });

    it('rehearse works on a copy that is discarded, and passes the result or the error on', async () => {
      const digest = digestOf('orphan');
      await db.recordBlob(digest, 6);
      const result = await db.rehearse(async (view) => {
        assert.deepEqual(await view.beginBlobDeletion(Date.now() + 1_000, 10), [{ digest, size: 6 }]);
        await view.finishBlobDeletion([digest]);
        assert.equal(await view.deleteRegistry('first'), true);
        assert.equal(await view.getRegistry('first'), undefined, 'the view sees its own changes');
        return 'counted';
      });
      assert.equal(result, 'counted');
      assert.equal(await db.recordBlob(digest, 6), 'existing', 'the blob is neither marked nor gone');
      assert.ok(await db.getRegistry('first'));

      const boom = new Error('boom');
      await assert.rejects(db.rehearse(async (view) => {
        await view.deleteRegistry('first');
        throw boom;
      }), boom);
      assert.ok(await db.getRegistry('first'));
      await db.createRegistry({ name: 'after', loginServer: 'localhost:5003', port: 5003 });
      assert.ok(await db.getRegistry('after'), 'the store takes writes once the rehearsal is over');
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('rehearsal')), [], 'the copies are removed');
    });
  });

  describe('manifests', () => {
    it('stores a manifest and returns it by digest and by tag, in its repository only', async () => {
      const m = await pushImage('app', 'v1', { tag: 'v1' });
      const expected = { digest: m.digest, mediaType: OCI_MANIFEST, size: m.content.length, content: m.content };
      assert.deepEqual(await db.getManifest(registry.id, 'app', { digest: m.digest }), expected);
      assert.deepEqual(await db.getManifest(registry.id, 'app', { tag: 'v1' }), expected);
      assert.equal(await db.getManifest(registry.id, 'other', { digest: m.digest }), undefined);
      assert.equal(await db.getManifest(registry.id, 'app', { tag: 'v2' }), undefined);
    });

    it('putManifest with a missing blob writes nothing: no manifest, no tag, no referrer, no repository', async () => {
      const config = await pushBlob('app', 'config');
      const absent = digestOf('never pushed');
      const subject = digestOf('some subject');
      const m = manifest('incomplete', { blobs: [config, absent], subject, tag: 'latest' });
      assert.deepEqual(await db.putManifest(registry.id, 'app', m), { ok: false, missingBlobs: [absent], missingManifests: [] });
      assert.equal(await db.getManifest(registry.id, 'app', { digest: m.digest }), undefined);
      assert.equal(await db.getManifest(registry.id, 'app', { tag: 'latest' }), undefined);
      assert.deepEqual(await db.listTags(registry.id, 'app', {}), []);
      assert.deepEqual(await db.listReferrers(registry.id, 'app', subject), []);
      assert.deepEqual(await db.listRepositories(registry.id, {}), []);

      // A blob pushed to another repository does not count, and a refused push leaves no repository behind.
      const fresh = manifest('elsewhere', { blobs: [config] });
      assert.deepEqual(await db.putManifest(registry.id, 'fresh', fresh), { ok: false, missingBlobs: [config], missingManifests: [] });
      assert.equal(await db.repositoryHasManifests(registry.id, 'fresh'), false);
    });

    it('putManifest of an index with a missing child writes nothing', async () => {
      const child = await pushImage('app', 'amd64');
      const absent = digestOf('arm64 manifest');
      const index = manifest('index', { mediaType: OCI_INDEX, children: [child.digest, absent], tag: 'multi' });
      assert.deepEqual(await db.putManifest(registry.id, 'app', index), { ok: false, missingBlobs: [], missingManifests: [absent] });
      assert.equal(await db.getManifest(registry.id, 'app', { digest: index.digest }), undefined);
      assert.equal(await db.getManifest(registry.id, 'app', { tag: 'multi' }), undefined);
      // Nothing of the refused index holds the child: it can still be deleted.
      assert.equal(await db.deleteManifest(registry.id, 'app', child.digest), 'deleted');
    });

    it('pushing the same manifest twice is harmless', async () => {
      const m = await pushImage('app', 'v1', { tag: 'a' });
      assert.deepEqual(await db.putManifest(registry.id, 'app', { ...m, tag: 'b' }), { ok: true });
      assert.deepEqual(await db.listTags(registry.id, 'app', {}), ['a', 'b']);
    });

    it('deleting a manifest listed by an index is refused with the index; once the index is gone it is deleted', async () => {
      const child = await pushImage('app', 'amd64');
      const index = manifest('index', { mediaType: OCI_INDEX, children: [child.digest], tag: 'multi' });
      assert.deepEqual(await db.putManifest(registry.id, 'app', index), { ok: true });
      assert.deepEqual(await db.deleteManifest(registry.id, 'app', child.digest), { referencedBy: index.digest });
      assert.ok(await db.getManifest(registry.id, 'app', { digest: child.digest }));
      assert.equal(await db.deleteManifest(registry.id, 'app', index.digest), 'deleted');
      assert.equal(await db.getManifest(registry.id, 'app', { tag: 'multi' }), undefined);
      assert.equal(await db.deleteManifest(registry.id, 'app', child.digest), 'deleted');
      assert.equal(await db.deleteManifest(registry.id, 'app', child.digest), 'unknown');
      assert.equal(await db.deleteManifest(registry.id, 'nowhere', child.digest), 'unknown');
    });

    it('an index in one repository does not hold a manifest of the same digest in another', async () => {
      const child = await pushImage('a', 'amd64');
      assert.deepEqual(await db.putManifest(registry.id, 'a', manifest('index', { mediaType: OCI_INDEX, children: [child.digest] })), { ok: true });
      await pushImage('b', 'amd64');
      assert.equal(await db.deleteManifest(registry.id, 'b', child.digest), 'deleted');
    });
  });

  describe('tags', () => {
    it('a tag moves to the manifest pushed last under it', async () => {
      const v1 = await pushImage('app', 'v1', { tag: 'latest' });
      const v2 = await pushImage('app', 'v2', { tag: 'latest' });
      assert.equal((await db.getManifest(registry.id, 'app', { tag: 'latest' }))?.digest, v2.digest);
      assert.ok(await db.getManifest(registry.id, 'app', { digest: v1.digest }), 'the untagged manifest stays');
      assert.deepEqual(await db.listTags(registry.id, 'app', {}), ['latest']);
    });

    it('deleting a tag keeps the manifest; deleting the manifest drops its tags', async () => {
      const m = await pushImage('app', 'v1', { tag: 'a' });
      await db.putManifest(registry.id, 'app', { ...m, tag: 'b' });
      assert.equal(await db.deleteTag(registry.id, 'app', 'a'), true);
      assert.equal(await db.deleteTag(registry.id, 'app', 'a'), false);
      assert.ok(await db.getManifest(registry.id, 'app', { digest: m.digest }));
      assert.deepEqual(await db.listTags(registry.id, 'app', {}), ['b']);
      assert.equal(await db.deleteManifest(registry.id, 'app', m.digest), 'deleted');
      assert.deepEqual(await db.listTags(registry.id, 'app', {}), []);
    });

    it('tags are per repository', async () => {
      await pushImage('a', 'one', { tag: 'latest' });
      assert.equal(await db.getManifest(registry.id, 'b', { tag: 'latest' }), undefined);
      assert.equal(await db.deleteTag(registry.id, 'b', 'latest'), false);
    });
  });

  describe('pagination', () => {
    it('lists tags in lexical order, n at a time, after `last`', async () => {
      const m = await pushImage('app', 'v1');
      for (const tag of ['v2', 'latest', 'v10', 'alpha', 'V1']) await db.putManifest(registry.id, 'app', { ...m, tag });
      const all = ['V1', 'alpha', 'latest', 'v10', 'v2'];
      assert.deepEqual(await db.listTags(registry.id, 'app', {}), all);
      assert.deepEqual(await db.listTags(registry.id, 'app', { n: 2 }), all.slice(0, 2));
      assert.deepEqual(await db.listTags(registry.id, 'app', { n: 2, last: 'alpha' }), all.slice(2, 4));
      assert.deepEqual(await db.listTags(registry.id, 'app', { n: 2, last: 'v10' }), ['v2']);
      assert.deepEqual(await db.listTags(registry.id, 'app', { last: 'v2' }), []);
      assert.deepEqual(await db.listTags(registry.id, 'app', { last: 'b' }), ['latest', 'v10', 'v2']);
      assert.deepEqual(await db.listTags(registry.id, 'app', { n: 0 }), []);
    });

    it('lists the repositories that hold manifests, of this registry only, n at a time', async () => {
      const other = await db.createRegistry({ name: 'second', loginServer: 'localhost:5002', port: 5002 });
      for (const name of ['zeta', 'alpha/one', 'alpha', 'mid']) await pushImage(name, name);
      await pushBlob('blobs-only', 'a layer without a manifest');
      await db.recordBlob(digestOf('x'), 1);
      await db.linkBlob(other.id, 'elsewhere', digestOf('x'));
      assert.deepEqual(await db.listRepositories(registry.id, {}), ['alpha', 'alpha/one', 'mid', 'zeta']);
      assert.deepEqual(await db.listRepositories(registry.id, { n: 2 }), ['alpha', 'alpha/one']);
      assert.deepEqual(await db.listRepositories(registry.id, { n: 2, last: 'alpha/one' }), ['mid', 'zeta']);
      assert.deepEqual(await db.listRepositories(registry.id, { last: 'zeta' }), []);
      assert.deepEqual(await db.listRepositories(other.id, {}), []);
    });
  });

  describe('referrers', () => {
    it('lists the manifests whose subject is a digest, with artifactType and annotations', async () => {
      const subject = await pushImage('app', 'image', { tag: 'v1' });
      const sbom = await pushImage('app', 'sbom', {
        subject: subject.digest, artifactType: 'application/spdx+json', annotations: { 'org.example.kind': 'sbom' },
      });
      const signature = await pushImage('app', 'signature', { subject: subject.digest, artifactType: 'application/vnd.dev.sigstore' });
      await pushImage('app', 'unrelated');
      // The spec sets no order on referrers.
      const byDigest = (a: { digest: string }, b: { digest: string }): number => a.digest.localeCompare(b.digest);
      assert.deepEqual((await db.listReferrers(registry.id, 'app', subject.digest)).sort(byDigest), [
        { mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.content.length, artifactType: 'application/spdx+json',
          annotations: { 'org.example.kind': 'sbom' } },
        { mediaType: OCI_MANIFEST, digest: signature.digest, size: signature.content.length, artifactType: 'application/vnd.dev.sigstore' },
      ].sort(byDigest));
    });

    it('a referrer may come before its subject, and is per repository', async () => {
      const subject = digestOf('pushed later');
      const sig = await pushImage('app', 'signature', { subject });
      assert.deepEqual((await db.listReferrers(registry.id, 'app', subject)).map((d) => d.digest), [sig.digest]);
      assert.deepEqual(await db.listReferrers(registry.id, 'other', subject), []);
    });
  });

  describe('upload sessions', () => {
    it('creates, sizes, finds by age and deletes upload sessions', async () => {
      const before = Date.now();
      await db.createUpload({ id: 'u1', registryId: registry.id, repository: 'app' });
      const u = await db.getUpload('u1');
      assert.equal(u?.repository, 'app');
      assert.equal(u?.registryId, registry.id);
      assert.equal(u?.size, 0);
      assert.ok(u!.createdAt >= before);
      await db.setUploadSize('u1', 1234);
      assert.equal((await db.getUpload('u1'))?.size, 1234);
      assert.deepEqual(await db.listUploadsBefore(before - 1), []);
      assert.deepEqual(await db.listUploadsBefore(Date.now() + 1), ['u1']);
      await db.deleteUpload('u1');
      assert.equal(await db.getUpload('u1'), undefined);
    });
  });
});
