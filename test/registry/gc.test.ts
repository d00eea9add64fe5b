import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { collectGarbage, type GcOptions, type GcProgress, type GcSummary } from '../../src/registry/gc.js';
import { blobContents } from '../helpers/blob-contents.js';
import { MEDIA_TYPES } from '../../src/registry/manifest-format.js';
import { ManifestService } from '../../src/registry/manifests.js';
import type { RegistryRecord } from '../../src/registry/metadata.js';
import type { Digest } from '../../src/registry/names.js';
import { SqliteMetadataStore } from '../../src/registry/sqlite-metadata.js';
import { FilesystemBlobStore } from '../../src/registry/storage/filesystem.js';
import { UploadService } from '../../src/registry/uploads.js';

const HOUR = 3_600_000;

function digestOf(content: string | Buffer): Digest {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

async function* bytes(content: string | Buffer): AsyncIterable<Buffer> {
  yield Buffer.from(content);
}

interface Image {
  digest: Digest;
  config: Digest;
  layer: Digest;
}

describe('collectGarbage', () => {
  let dir: string;
  let metadata: SqliteMetadataStore;
  let store: FilesystemBlobStore;
  let uploads: UploadService;
  let manifests: ManifestService;
  let registry: RegistryRecord;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-gc-'));
    metadata = new SqliteMetadataStore(join(dir, 'anchorage.db'));
    store = await new FilesystemBlobStore(join(dir, 'storage')).init();
    uploads = new UploadService(metadata, store);
    manifests = new ManifestService(metadata);
    registry = await metadata.createRegistry({ name: 'gcregistry', loginServer: 'gcregistry.test', port: null });
  });

  afterEach(() => {
    metadata.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pushBlob(repository: string, content: string): Promise<Digest> {
    return uploads.monolithic(registry, repository, digestOf(content), bytes(content), Buffer.byteLength(content));
  }

  async function pushManifest(repository: string, doc: object, tag?: string): Promise<Digest> {
    const body = Buffer.from(JSON.stringify(doc));
    const digest = digestOf(body);
    await manifests.put(registry, repository, tag !== undefined ? { tag } : { digest }, body, (doc as { mediaType: string }).mediaType);
    return digest;
  }

  /** An image with a config and one layer, both unique to `label` unless `layerContent` is shared. */
  async function pushImage(repository: string, label: string, options: { tag?: string; layerContent?: string; subject?: Image } = {}): Promise<Image> {
    const configContent = `{"label":"${label}"}`;
    const layerContent = options.layerContent ?? `layer of ${label}`;
    const config = await pushBlob(repository, configContent);
    const layer = await pushBlob(repository, layerContent);
    const digest = await pushManifest(repository, {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configContent.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: layerContent.length }],
      ...(options.subject ? { subject: { mediaType: MEDIA_TYPES.ociManifest, digest: options.subject.digest, size: 1 } } : {}),
    }, options.tag);
    return { digest, config, layer };
  }

  async function pushIndex(repository: string, children: Image[], tag?: string): Promise<Digest> {
    return pushManifest(repository, {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: children.map((c) => ({ mediaType: MEDIA_TYPES.ociManifest, digest: c.digest, size: 1 })),
    }, tag);
  }

  /** Lets the clock move past everything pushed so far, so that a grace period of 0 covers it. */
  async function settle(): Promise<void> {
    await sleep(5);
  }

  function gc(options: Partial<GcOptions> = {}): Promise<GcSummary> {
    return collectGarbage(metadata, store, { dryRun: false, graceMs: 0, uploadGraceMs: 0, ...options });
  }

  async function stored(digest: Digest): Promise<boolean> {
    return (await store.stat(digest)) !== undefined;
  }

  async function linked(repository: string, digest: Digest): Promise<boolean> {
    return (await metadata.getLinkedBlob(registry.id, repository, digest)) !== undefined;
  }

  async function hasManifest(repository: string, digest: Digest): Promise<boolean> {
    return (await metadata.getManifest(registry.id, repository, { digest })) !== undefined;
  }

  /** Everything a tagged image needs is still there and readable. */
  async function assertIntact(repository: string, image: Image): Promise<void> {
    assert.ok(await hasManifest(repository, image.digest), `manifest ${image.digest} is kept`);
    for (const blob of [image.config, image.layer]) {
      assert.ok(await linked(repository, blob), `blob ${blob} stays linked`);
      assert.ok(await stored(blob), `blob ${blob} stays stored`);
      assert.equal(digestOf(await blobContents(store, blob)), blob);
    }
  }

  async function assertGone(repository: string, image: Image): Promise<void> {
    assert.equal(await hasManifest(repository, image.digest), false, `manifest ${image.digest} is removed`);
    for (const blob of [image.config, image.layer]) {
      assert.equal(await linked(repository, blob), false, `blob ${blob} is unlinked`);
      assert.equal(await stored(blob), false, `blob ${blob} is removed from storage`);
    }
  }

  it('removes blobs no manifest references and keeps tagged images', async () => {
    const image = await pushImage('app', 'v1', { tag: 'v1' });
    const orphan = await pushBlob('app', 'pushed, never referenced');
    await settle();
    const summary = await gc();
    assert.deepEqual(summary, { uploads: 0, manifests: 0, links: 1, blobs: 1, bytes: 'pushed, never referenced'.length });
    assert.equal(await linked('app', orphan), false);
    assert.equal(await stored(orphan), false);
    await assertIntact('app', image);
    assert.deepEqual(await gc(), { uploads: 0, manifests: 0, links: 0, blobs: 0, bytes: 0 }, 'a second run finds nothing');
  });

  it('content unlinked from one repository stays while a manifest of another repository references it', async () => {
    const shared = await pushBlob('a', 'shared layer');
    assert.equal(await uploads.mount(registry, 'b', shared, 'a'), true);
    const image = await pushImage('b', 'uses the shared layer', { tag: 'v1', layerContent: 'shared layer' });
    assert.equal(image.layer, shared);
    const onlyA = await pushBlob('a', 'only in a');
    await metadata.unlinkBlob(registry.id, 'a', shared);
    await metadata.unlinkBlob(registry.id, 'a', onlyA);
    await settle();
    const summary = await gc();
    assert.equal(summary.blobs, 1);
    assert.equal(await stored(onlyA), false);
    await assertIntact('b', image);
  });

  it('keeps untagged manifests of a registry whose policy does not remove them', async () => {
    const untagged = await pushImage('app', 'untagged');
    const tagged = await pushImage('app', 'tagged', { tag: 'latest' });
    await settle();
    const summary = await gc();
    assert.equal(summary.manifests, 0);
    assert.equal(summary.blobs, 0);
    await assertIntact('app', untagged);
    await assertIntact('app', tagged);
  });

  it('with gcUntagged, removes untagged manifests and the blobs only they used, and keeps tagged content', async () => {
    await metadata.updateRegistry(registry.name, { gcUntagged: true });
    const tagged = await pushImage('app', 'tagged', { tag: 'latest', layerContent: 'a base layer both images share' });
    const untagged = await pushImage('app', 'untagged', { layerContent: 'a base layer both images share' });
    const retagged = await pushImage('app', 'old', { tag: 'moving' });
    const current = await pushImage('app', 'new', { tag: 'moving' });
    await settle();
    const summary = await gc();
    assert.equal(summary.manifests, 2);
    assert.equal(summary.blobs, 3, "untagged's config, old's config and layer");
    assert.equal(await hasManifest('app', untagged.digest), false);
    assert.equal(await stored(untagged.config), false);
    assert.ok(await stored(untagged.layer), 'the layer a tagged image shares stays');
    await assertGone('app', retagged);
    await assertIntact('app', tagged);
    await assertIntact('app', current);
    const resolved = await metadata.getManifest(registry.id, 'app', { tag: 'moving' });
    assert.equal(resolved?.digest, current.digest);
  });

  it('with gcUntagged, keeps the children of a tagged index and removes an untagged index with its children', async () => {
    await metadata.updateRegistry(registry.name, { gcUntagged: true });
    const amd64 = await pushImage('multi', 'amd64');
    const arm64 = await pushImage('multi', 'arm64');
    await pushIndex('multi', [amd64, arm64], 'v1');
    const oldAmd64 = await pushImage('old', 'amd64 old');
    const oldIndex = await pushIndex('old', [oldAmd64]);
    await settle();
    const summary = await gc();
    await assertIntact('multi', amd64);
    await assertIntact('multi', arm64);
    assert.equal(await hasManifest('old', oldIndex), false);
    await assertGone('old', oldAmd64);
    assert.equal(summary.manifests, 2, 'the index, then the child it no longer holds');
  });

  it('with gcUntagged, keeps referrers of a live subject and removes those whose subject is gone', async () => {
    await metadata.updateRegistry(registry.name, { gcUntagged: true });
    const image = await pushImage('app', 'image', { tag: 'v1' });
    const signature = await pushImage('app', 'signature', { subject: image });
    const stale = await pushImage('app', 'stale');
    const staleSbom = await pushImage('app', 'stale sbom', { subject: stale });
    await settle();
    await gc();
    await assertIntact('app', image);
    await assertIntact('app', signature);
    await assertGone('app', stale);
    await assertGone('app', staleSbom);
    assert.deepEqual((await metadata.listReferrers(registry.id, 'app', image.digest)).map((d) => d.digest), [signature.digest]);
  });

  it('respects the grace period: nothing younger than it is removed', async () => {
    await metadata.updateRegistry(registry.name, { gcUntagged: true });
    const untagged = await pushImage('app', 'fresh untagged');
    const orphan = await pushBlob('app', 'fresh orphan');
    const upload = await uploads.start(registry, 'app');
    await settle();
    const summary = await gc({ graceMs: HOUR, uploadGraceMs: HOUR });
    assert.deepEqual(summary, { uploads: 0, manifests: 0, links: 0, blobs: 0, bytes: 0 });
    await assertIntact('app', untagged);
    assert.ok(await linked('app', orphan));
    assert.ok(await stored(orphan));
    assert.deepEqual(await uploads.status(registry, 'app', upload.id), { id: upload.id, size: 0 });
  });

  it('--dry-run reports what it would remove and changes nothing', async () => {
    await metadata.updateRegistry(registry.name, { gcUntagged: true });
    const tagged = await pushImage('app', 'tagged', { tag: 'v1' });
    const untagged = await pushImage('app', 'untagged');
    const orphan = await pushBlob('app', 'orphan');
    const upload = await uploads.start(registry, 'app');
    await uploads.append(registry, 'app', upload.id, bytes('partial'), {});
    await settle();
    const seen: GcProgress[] = [];
    const dry = await gc({ dryRun: true, onProgress: (p) => seen.push(p) });
    // The orphan, and what becomes garbage once the untagged manifest is gone: its config and layer.
    assert.deepEqual(dry, { uploads: 1, manifests: 1, links: 3, blobs: 3, bytes: 6 + '{"label":"untagged"}'.length + 'layer of untagged'.length });
    assert.ok(seen.some((p) => p.phase === 'manifests'), 'progress is reported in a dry run too');

    await assertIntact('app', tagged);
    await assertIntact('app', untagged);
    assert.ok(await linked('app', orphan));
    assert.ok(await stored(orphan));
    assert.deepEqual(await uploads.status(registry, 'app', upload.id), { id: upload.id, size: 7 });
    assert.equal(await store.uploadSize(upload.id), 7);
    assert.equal(await metadata.recordBlob(orphan, 6), 'existing', 'nothing is left marked as being deleted');
    await settle();

    assert.deepEqual(await gc(), dry, 'the real run removes what the dry run said it would');
    await assertGone('app', untagged);
    await assertIntact('app', tagged);
  });

  it('purges abandoned uploads: sessions, stray upload files and sessions whose file is gone', async () => {
    const abandoned = await uploads.start(registry, 'app');
    await uploads.append(registry, 'app', abandoned.id, bytes('half a layer'), {});
    const stray = crypto.randomUUID();
    await store.createUpload(stray);
    const fileless = await uploads.start(registry, 'app');
    await store.deleteUpload(fileless.id);
    await settle();
    const summary = await gc();
    assert.equal(summary.uploads, 3);
    assert.equal(await store.uploadSize(abandoned.id), undefined);
    assert.equal(await metadata.getUpload(abandoned.id), undefined);
    assert.equal(await store.uploadSize(stray), undefined);
    assert.equal(await metadata.getUpload(fileless.id), undefined);
    await assert.rejects(uploads.status(registry, 'app', abandoned.id), { code: 'BLOB_UPLOAD_UNKNOWN' });
  });

  it('keeps a session started before the upload grace period that is still being written', async () => {
    const upload = await uploads.start(registry, 'app');
    const raw = new Database(join(dir, 'anchorage.db'));
    raw.prepare('UPDATE uploads SET created_at = ? WHERE id = ?').run(Date.now() - 2 * HOUR, upload.id);
    raw.close();
    await uploads.append(registry, 'app', upload.id, bytes('a chunk just now'), {});
    const summary = await gc({ uploadGraceMs: HOUR });
    assert.equal(summary.uploads, 0);
    assert.deepEqual(await uploads.status(registry, 'app', upload.id), { id: upload.id, size: 16 });
    assert.equal(await store.uploadSize(upload.id), 16);
  });

  it('frees everything of a deleted registry', async () => {
    const image = await pushImage('app', 'v1', { tag: 'v1' });
    const upload = await uploads.start(registry, 'app');
    await metadata.deleteRegistry(registry.name);
    await settle();
    const summary = await gc();
    assert.equal(summary.blobs, 2);
    assert.equal(summary.uploads, 1);
    assert.equal(await stored(image.config), false);
    assert.equal(await stored(image.layer), false);
    assert.equal(await store.uploadSize(upload.id), undefined);
  });

  it('an upload committing a digest gc has marked waits for the deletion, then succeeds with the blob present', async () => {
    const content = 'content gc is about to remove';
    const digest = await pushBlob('a', content);
    await metadata.unlinkBlob(registry.id, 'a', digest);
    // A client pushes the same content to another repository while gc runs.
    const upload = await uploads.start(registry, 'b');
    await uploads.append(registry, 'b', upload.id, bytes(content), {});
    await settle();

    const marked = await metadata.beginBlobDeletion(Date.now(), 100);
    assert.deepEqual(marked, [{ digest, size: content.length }]);
    let settled = false;
    const committing = uploads.finish(registry, 'b', upload.id, digest, undefined, {}).finally(() => { settled = true; });
    await sleep(300);
    assert.equal(settled, false, 'the commit waits while gc holds the digest');
    assert.equal(await linked('b', digest), false);

    await store.delete(digest);
    await metadata.finishBlobDeletion([digest]);
    assert.equal(await committing, digest);
    assert.ok(await linked('b', digest));
    assert.equal(await store.stat(digest), content.length);
    assert.equal((await blobContents(store, digest)).toString(), content);
    assert.equal(await metadata.getUpload(upload.id), undefined);
  });

  it('gc running while an image is pushed never takes its blobs (with grace periods)', async () => {
    await metadata.updateRegistry(registry.name, { gcUntagged: true });
    const runs: Array<Promise<GcSummary>> = [];
    const images: Image[] = [];
    for (let i = 0; i < 10; i++) {
      runs.push(gc({ graceMs: HOUR, uploadGraceMs: HOUR }));
      images.push(await pushImage('busy', `image ${i}`, i % 2 ? { tag: `t${i}` } : {}));
      runs.push(gc({ graceMs: HOUR, uploadGraceMs: HOUR }));
    }
    for (const summary of await Promise.all(runs)) assert.deepEqual(summary, { uploads: 0, manifests: 0, links: 0, blobs: 0, bytes: 0 });
    for (const image of images) await assertIntact('busy', image);
  });
});
