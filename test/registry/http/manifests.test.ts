import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertRegistryError, descriptorOf, digestOf, EMPTY_CONFIG, MEDIA, randomBlob, RegistryClient, send, unknownDigest,
  type Descriptor,
} from '../../helpers/registry-client.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const MAX_MANIFEST = 4 * 1024 * 1024;

describe('registry HTTP: manifests', () => {
  let server: TestServer;
  let client: RegistryClient;

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
  });
  after(() => server.close());

  const put = (repository: string, reference: string, body: Buffer | string, contentType?: string): Promise<Response> =>
    client.fetch(`/v2/${repository}/manifests/${reference}`, { method: 'PUT', body, headers: contentType ? { 'Content-Type': contentType } : {} });

  /** Asserts a manifest GET (or HEAD) returns exactly what was pushed. */
  const assertManifest = async (repository: string, reference: string, body: Buffer, mediaType: string, method = 'GET'): Promise<void> => {
    const res = await client.fetch(`/v2/${repository}/manifests/${reference}`, { method });
    assert.equal(res.status, 200, `${method} ${repository}:${reference}`);
    assert.equal(res.headers.get('content-type'), mediaType);
    assert.equal(res.headers.get('content-length'), String(body.length));
    assert.equal(res.headers.get('docker-content-digest'), digestOf(body));
    assert.equal(res.headers.get('etag'), `"${digestOf(body)}"`);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    const got = Buffer.from(await res.arrayBuffer());
    if (method === 'HEAD') assert.equal(got.length, 0);
    else assert.deepEqual(got, body);
  };

  /** A config and a layer pushed to the repository, for hand-written manifests. */
  const blobsIn = async (repository: string, docker = false): Promise<{ config: Descriptor; layer: Descriptor }> => ({
    config: await client.pushBlob(repository, Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', n: Math.random() })), docker ? MEDIA.dockerConfig : MEDIA.ociConfig),
    layer: await client.pushBlob(repository, randomBlob(100), docker ? MEDIA.dockerLayer : MEDIA.ociLayer),
  });

  describe('OCI image manifests', () => {
    it('PUT by tag is 201 with Location and Docker-Content-Digest; GET and HEAD by tag and digest return it', async () => {
      const { config, layer } = await blobsIn('m/oci');
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] }));
      const digest = digestOf(body);
      const res = await put('m/oci', 'v1', body, MEDIA.ociManifest);
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal(res.headers.get('location'), `/v2/m/oci/manifests/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal(res.headers.get('oci-subject'), null);
      for (const method of ['GET', 'HEAD']) {
        await assertManifest('m/oci', 'v1', body, MEDIA.ociManifest, method);
        await assertManifest('m/oci', digest, body, MEDIA.ociManifest, method);
      }
    });

    it('PUT by digest stores an untagged manifest', async () => {
      const { config, layer } = await blobsIn('m/oci-digest');
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] }));
      const digest = digestOf(body);
      const res = await put('m/oci-digest', digest, body, MEDIA.ociManifest);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('location'), `/v2/m/oci-digest/manifests/${digest}`);
      await assertManifest('m/oci-digest', digest, body, MEDIA.ociManifest);
      const tags = await client.fetch('/v2/m/oci-digest/tags/list');
      assert.deepEqual(await tags.json(), { name: 'm/oci-digest', tags: [] });
    });

    it('PUT by a sha512 digest stores the manifest under that digest', async () => {
      const { config, layer } = await blobsIn('m/sha512');
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] }));
      const digest = digestOf(body, 'sha512');
      const res = await put('m/sha512', digest, body, MEDIA.ociManifest);
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal(res.headers.get('docker-content-digest'), digest);
      const got = await client.fetch(`/v2/m/sha512/manifests/${digest}`);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    });

    it('references sha512 blobs', async () => {
      const config = await client.pushBlob('m/sha512', Buffer.from('{"os":"linux"}'), MEDIA.ociConfig, 'sha512');
      const layer = await client.pushBlob('m/sha512', randomBlob(64), MEDIA.ociLayer, 'sha512');
      const { body } = await client.pushManifest('m/sha512', 'blobs512', { schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] });
      await assertManifest('m/sha512', 'blobs512', body, MEDIA.ociManifest);
    });

    it('without a mediaType field, the Content-Type names the type and is served back', async () => {
      const { config, layer } = await blobsIn('m/no-media-type');
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers: [layer] }));
      assert.equal((await put('m/no-media-type', 'v1', body, MEDIA.ociManifest)).status, 201);
      await assertManifest('m/no-media-type', 'v1', body, MEDIA.ociManifest);
    });

    it('accepts a Content-Type with parameters', async () => {
      const { config, layer } = await blobsIn('m/params');
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] }));
      assert.equal((await put('m/params', 'v1', body, `${MEDIA.ociManifest}; charset=utf-8`)).status, 201);
      await assertManifest('m/params', 'v1', body, MEDIA.ociManifest);
    });

    it('keeps the exact bytes pushed, whitespace included', async () => {
      const { config, layer } = await blobsIn('m/bytes');
      const body = Buffer.from(`{\n  "schemaVersion": 2,\n  "mediaType": "${MEDIA.ociManifest}",\n  "config": ${JSON.stringify(config)},\n  "layers": [ ${JSON.stringify(layer)} ]\n}\n`);
      const res = await put('m/bytes', 'pretty', body, MEDIA.ociManifest);
      assert.equal(res.headers.get('docker-content-digest'), digestOf(body));
      await assertManifest('m/bytes', 'pretty', body, MEDIA.ociManifest);
    });

    it('a layer with urls (non-distributable) need not be in the registry', async () => {
      const { config } = await blobsIn('m/foreign');
      const foreign = { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: unknownDigest(), size: 1234, urls: ['https://example.com/layer'] };
      const { body } = await client.pushManifest('m/foreign', 'v1', { schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [foreign] });
      await assertManifest('m/foreign', 'v1', body, MEDIA.ociManifest);
    });

    it('an unknown tag or digest is 404 MANIFEST_UNKNOWN; HEAD is 404 without a body', async () => {
      await client.pushImage('m/unknown', 'exists');
      for (const ref of ['missing', unknownDigest()]) {
        await assertRegistryError(await client.fetch(`/v2/m/unknown/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
        await assertRegistryError(await client.fetch(`/v2/m/unknown/manifests/${ref}`, { method: 'HEAD' }), 404, 'MANIFEST_UNKNOWN', 'HEAD');
      }
      await assertRegistryError(await client.fetch('/v2/m/never-pushed/manifests/latest'), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest of repository A is unknown in repository B', async () => {
      const image = await client.pushImage('m/iso-a', 'v1');
      await assertRegistryError(await client.fetch(`/v2/m/iso-b/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      await assertRegistryError(await client.fetch('/v2/m/iso-b/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
    });

    it('pushing a tag again moves it to the new manifest', async () => {
      const first = await client.pushImage('m/retag', 'moving');
      await assertManifest('m/retag', 'moving', first.body, MEDIA.ociManifest);
      const second = await client.pushImage('m/retag', 'moving');
      await assertManifest('m/retag', 'moving', second.body, MEDIA.ociManifest);
      // The first manifest stays, by digest.
      await assertManifest('m/retag', first.digest, first.body, MEDIA.ociManifest);
    });

    it('pushing the same manifest twice is 201 both times', async () => {
      const image = await client.pushImage('m/twice', 'a');
      const again = await put('m/twice', 'b', image.body, MEDIA.ociManifest);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('docker-content-digest'), image.digest);
      await assertManifest('m/twice', 'b', image.body, MEDIA.ociManifest);
    });
  });

  describe('OCI image indexes', () => {
    it('an index of manifests in the repository is 201 and served as an index', async () => {
      const amd = await client.pushImage('m/index');
      const arm = await client.pushImage('m/index');
      const { digest, body } = await client.pushIndex('m/index', 'multi', [
        { ...amd.descriptor, platform: { architecture: 'amd64', os: 'linux' } },
        { ...arm.descriptor, platform: { architecture: 'arm64', os: 'linux' } },
      ]);
      assert.equal(digest, digestOf(body));
      await assertManifest('m/index', 'multi', body, MEDIA.ociIndex);
      await assertManifest('m/index', digest, body, MEDIA.ociIndex, 'HEAD');
    });

    it('an index may list another index', async () => {
      const image = await client.pushImage('m/nested');
      const inner = await client.pushIndex('m/nested', 'inner', [image.descriptor]);
      const { body } = await client.pushIndex('m/nested', 'outer', [{ mediaType: MEDIA.ociIndex, digest: inner.digest, size: inner.body.length }]);
      await assertManifest('m/nested', 'outer', body, MEDIA.ociIndex);
    });

    it('an empty index is valid', async () => {
      const { body } = await client.pushIndex('m/empty-index', 'none', []);
      await assertManifest('m/empty-index', 'none', body, MEDIA.ociIndex);
    });

    it('an index listing a manifest the repository lacks is 400 MANIFEST_BLOB_UNKNOWN and is not stored', async () => {
      const present = await client.pushImage('m/index-missing');
      const elsewhere = await client.pushImage('m/index-other');
      const missing = unknownDigest();
      for (const child of [missing, elsewhere.digest]) {
        const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [present.descriptor, { mediaType: MEDIA.ociManifest, digest: child, size: 10 }] });
        const error = await assertRegistryError(await put('m/index-missing', 'broken', body, MEDIA.ociIndex), 400, 'MANIFEST_BLOB_UNKNOWN');
        assert.match(error!.message, new RegExp(child));
        assert.deepEqual(error!.detail, { missing: [child] });
        await assertRegistryError(await client.fetch('/v2/m/index-missing/manifests/broken'), 404, 'MANIFEST_UNKNOWN');
        await assertRegistryError(await client.fetch(`/v2/m/index-missing/manifests/${digestOf(body)}`), 404, 'MANIFEST_UNKNOWN');
      }
    });
  });

  describe('Docker schema 2', () => {
    it('a Docker manifest is stored and served with its media type', async () => {
      const image = await client.pushImage('m/docker', 'v2', { format: 'docker' });
      assert.equal(image.manifest['mediaType'], MEDIA.dockerManifest);
      for (const ref of ['v2', image.digest]) {
        await assertManifest('m/docker', ref, image.body, MEDIA.dockerManifest);
        await assertManifest('m/docker', ref, image.body, MEDIA.dockerManifest, 'HEAD');
      }
    });

    it('a Docker manifest list is stored and served with its media type', async () => {
      const amd = await client.pushImage('m/docker-list', undefined, { format: 'docker' });
      const arm = await client.pushImage('m/docker-list', undefined, { format: 'docker' });
      const { digest, body } = await client.pushIndex('m/docker-list', 'multi', [
        { ...amd.descriptor, platform: { architecture: 'amd64', os: 'linux' } },
        { ...arm.descriptor, platform: { architecture: 'arm64', os: 'linux' } },
      ], 'docker');
      await assertManifest('m/docker-list', 'multi', body, MEDIA.dockerList);
      await assertManifest('m/docker-list', digest, body, MEDIA.dockerList);
    });

    it('a Docker manifest list with a missing child is 400 MANIFEST_UNKNOWN', async () => {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerList, manifests: [{ mediaType: MEDIA.dockerManifest, digest: unknownDigest(), size: 5 }] });
      await assertRegistryError(await put('m/docker-list', 'broken', body, MEDIA.dockerList), 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a Docker schema 1 manifest is 400 MANIFEST_INVALID', async () => {
      const body = JSON.stringify({ schemaVersion: 1, name: 'm/docker', tag: 'old', fsLayers: [], history: [] });
      await assertRegistryError(await put('m/docker', 'old', body, 'application/vnd.docker.distribution.manifest.v1+prettyjws'), 400, 'MANIFEST_INVALID');
      await assertRegistryError(await put('m/docker', 'old', body, 'application/vnd.docker.distribution.manifest.v1+json'), 400, 'MANIFEST_INVALID');
    });
  });

  describe('artifacts', () => {
    it('an artifact with artifactType and the empty config is stored and served', async () => {
      const config = await client.pushBlob('m/artifact', EMPTY_CONFIG, MEDIA.ociEmpty);
      assert.equal(config.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
      const sbom = await client.pushBlob('m/artifact', Buffer.from('{"spdxVersion":"SPDX-2.3"}'), 'application/spdx+json');
      const { body, response } = await client.pushManifest('m/artifact', 'sbom', {
        schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 'application/spdx+json', config, layers: [sbom],
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
      });
      assert.equal(response.headers.get('oci-subject'), null);
      await assertManifest('m/artifact', 'sbom', body, MEDIA.ociManifest);
    });

    it('an artifact may have no layers', async () => {
      const config = await client.pushBlob('m/artifact', EMPTY_CONFIG, MEDIA.ociEmpty);
      const { body } = await client.pushManifest('m/artifact', 'nolayers', {
        schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 'application/vnd.example.thing', config, layers: [],
      });
      await assertManifest('m/artifact', 'nolayers', body, MEDIA.ociManifest);
    });

    it('an artifact whose type is its config media type (the older convention)', async () => {
      const config = await client.pushBlob('m/artifact', Buffer.from('{"helm":true}'), 'application/vnd.cncf.helm.config.v1+json');
      const chart = await client.pushBlob('m/artifact', randomBlob(80), 'application/vnd.cncf.helm.chart.content.v1.tar+gzip');
      const { body } = await client.pushManifest('m/artifact', 'chart', { schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [chart] });
      await assertManifest('m/artifact', 'chart', body, MEDIA.ociManifest);
    });

    it('the empty config must be pushed like any blob: otherwise 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const empty = descriptorOf(MEDIA.ociEmpty, EMPTY_CONFIG);
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 'application/x', config: empty, layers: [] });
      await assertRegistryError(await put('m/artifact-no-config', 'x', body, MEDIA.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
    });
  });

  describe('subject and OCI-Subject', () => {
    it('a manifest with a subject is answered with OCI-Subject', async () => {
      const subject = await client.pushImage('m/subject', 'v1');
      const config = await client.pushBlob('m/subject', EMPTY_CONFIG, MEDIA.ociEmpty);
      const signature = await client.pushBlob('m/subject', randomBlob(32), 'application/vnd.example.signature');
      const manifest = {
        schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 'application/vnd.example.signature', config, layers: [signature], subject: subject.descriptor,
      };
      const { response, body, digest } = await client.pushManifest('m/subject', digestOf(JSON.stringify(manifest)), manifest);
      assert.equal(response.headers.get('oci-subject'), subject.digest);
      await assertManifest('m/subject', digest, body, MEDIA.ociManifest);
    });

    it('the subject need not exist yet', async () => {
      const config = await client.pushBlob('m/subject', EMPTY_CONFIG, MEDIA.ociEmpty);
      const absent = { mediaType: MEDIA.ociManifest, digest: unknownDigest(), size: 500 };
      const { response } = await client.pushManifest('m/subject', 'early', {
        schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 'application/x', config, layers: [], subject: absent,
      });
      assert.equal(response.headers.get('oci-subject'), absent.digest);
    });

    it('an index with a subject is answered with OCI-Subject', async () => {
      const subject = await client.pushImage('m/subject', 'base');
      const child = await client.pushImage('m/subject');
      const { response } = await client.pushManifest('m/subject', 'idx', {
        schemaVersion: 2, mediaType: MEDIA.ociIndex, artifactType: 'application/x', manifests: [child.descriptor], subject: subject.descriptor,
      });
      assert.equal(response.headers.get('oci-subject'), subject.digest);
    });

    it('a subject that is not a descriptor is 400 MANIFEST_INVALID', async () => {
      const config = await client.pushBlob('m/subject', EMPTY_CONFIG, MEDIA.ociEmpty);
      for (const subject of ['sha256:abc', { digest: unknownDigest() }, { mediaType: MEDIA.ociManifest, digest: 'nope', size: 1 }]) {
        const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [], subject });
        await assertRegistryError(await put('m/subject', 'badsubject', body, MEDIA.ociManifest), 400, 'MANIFEST_INVALID');
      }
    });
  });

  describe('validation', () => {
    let config: Descriptor;
    let layer: Descriptor;
    before(async () => {
      ({ config, layer } = await blobsIn('m/invalid'));
    });

    const invalid: Array<{ title: string; body: () => string; contentType?: string }> = [
      { title: 'a body that is not JSON', body: () => '{"schemaVersion": 2,', contentType: MEDIA.ociManifest },
      { title: 'an empty body', body: () => '', contentType: MEDIA.ociManifest },
      { title: 'a JSON array', body: () => '[]', contentType: MEDIA.ociManifest },
      { title: 'a JSON string', body: () => '"manifest"', contentType: MEDIA.ociManifest },
      { title: 'schemaVersion 1', body: () => JSON.stringify({ schemaVersion: 1, mediaType: MEDIA.ociManifest, config, layers: [layer] }), contentType: MEDIA.ociManifest },
      { title: 'no schemaVersion', body: () => JSON.stringify({ mediaType: MEDIA.ociManifest, config, layers: [layer] }), contentType: MEDIA.ociManifest },
      { title: 'mediaType other than the Content-Type', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] }), contentType: MEDIA.dockerManifest },
      { title: 'an index body sent as an image manifest', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }), contentType: MEDIA.ociManifest },
      { title: 'a mediaType that is not a string', body: () => JSON.stringify({ schemaVersion: 2, mediaType: 7, config, layers: [layer] }), contentType: MEDIA.ociManifest },
      { title: 'an unknown media type', body: () => JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example.unknown+json', config, layers: [] }), contentType: 'application/vnd.example.unknown+json' },
      { title: 'no mediaType and no telling Content-Type', body: () => JSON.stringify({ schemaVersion: 2, layers: [] }), contentType: 'application/json' },
      { title: 'no config', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, layers: [layer] }), contentType: MEDIA.ociManifest },
      { title: 'layers that are not an array', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: layer }), contentType: MEDIA.ociManifest },
      { title: 'a layer with an invalid digest', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [{ ...layer, digest: 'sha256:xyz' }] }), contentType: MEDIA.ociManifest },
      { title: 'a layer with a negative size', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [{ ...layer, size: -1 }] }), contentType: MEDIA.ociManifest },
      { title: 'a layer with a fractional size', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [{ ...layer, size: 1.5 }] }), contentType: MEDIA.ociManifest },
      { title: 'a layer without a media type', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [{ digest: layer.digest, size: layer.size }] }), contentType: MEDIA.ociManifest },
      { title: 'an index whose manifests are not an array', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: {} }), contentType: MEDIA.ociIndex },
      { title: 'an artifactType that is not a string', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 3, config, layers: [] }), contentType: MEDIA.ociManifest },
      { title: 'annotations that are not strings', body: () => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [], annotations: { a: 1 } }), contentType: MEDIA.ociManifest },
    ];
    for (const c of invalid) {
      it(`${c.title} is 400 MANIFEST_INVALID and stores nothing`, async () => {
        const body = c.body();
        await assertRegistryError(await put('m/invalid', 'bad', body, c.contentType), 400, 'MANIFEST_INVALID');
        await assertRegistryError(await client.fetch('/v2/m/invalid/manifests/bad'), 404, 'MANIFEST_UNKNOWN');
        await assertRegistryError(await client.fetch(`/v2/m/invalid/manifests/${digestOf(body)}`), 404, 'MANIFEST_UNKNOWN');
      });
    }

    it('the mismatch error names both media types', async () => {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] });
      const error = await assertRegistryError(await put('m/invalid', 'bad', body, MEDIA.dockerManifest), 400, 'MANIFEST_INVALID');
      assert.ok(error!.message.includes(MEDIA.ociManifest) && error!.message.includes(MEDIA.dockerManifest), error!.message);
    });

    it('a missing config is 400 MANIFEST_BLOB_UNKNOWN naming the blob', async () => {
      const missing = descriptorOf(MEDIA.ociConfig, randomBlob(20));
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: missing, layers: [layer] });
      const error = await assertRegistryError(await put('m/invalid', 'bad', body, MEDIA.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
      assert.match(error!.message, new RegExp(missing.digest));
      assert.deepEqual(error!.detail, { missing: [missing.digest] });
      await assertRegistryError(await client.fetch('/v2/m/invalid/manifests/bad'), 404, 'MANIFEST_UNKNOWN');
    });

    it('a missing layer is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const missing = descriptorOf(MEDIA.ociLayer, randomBlob(20));
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer, missing] });
      const error = await assertRegistryError(await put('m/invalid', 'bad', body, MEDIA.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
      assert.deepEqual(error!.detail, { missing: [missing.digest] });
      await assertRegistryError(await client.fetch(`/v2/m/invalid/manifests/${digestOf(body)}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a blob of another repository counts as missing', async () => {
      const foreign = await client.pushBlob('m/invalid-other', randomBlob(30), MEDIA.ociLayer);
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [foreign] });
      await assertRegistryError(await put('m/invalid', 'bad', body, MEDIA.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a refused push to a new repository creates no repository', async () => {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: descriptorOf(MEDIA.ociConfig, randomBlob(5)), layers: [] });
      await assertRegistryError(await put('m/refused-only', 'x', body, MEDIA.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
      await assertRegistryError(await client.fetch('/v2/m/refused-only/tags/list'), 404, 'NAME_UNKNOWN');
    });

    it('PUT by a digest that is not the body\'s is 400 DIGEST_INVALID and stores nothing', async () => {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer] });
      const wrong = unknownDigest();
      const error = await assertRegistryError(await put('m/invalid', wrong, body, MEDIA.ociManifest), 400, 'DIGEST_INVALID');
      assert.match(error!.message, new RegExp(digestOf(body)));
      await assertRegistryError(await client.fetch(`/v2/m/invalid/manifests/${wrong}`), 404, 'MANIFEST_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/m/invalid/manifests/${digestOf(body)}`), 404, 'MANIFEST_UNKNOWN');
      // The sha512 of a body is not its sha256.
      await assertRegistryError(await put('m/invalid', unknownDigest('sha512'), body, MEDIA.ociManifest), 400, 'DIGEST_INVALID');
    });
  });

  describe('size limit', () => {
    /** An OCI manifest padded with an annotation to exactly `size` bytes. */
    const padded = async (size: number): Promise<Buffer> => {
      const { config, layer } = await blobsIn('m/size');
      const base = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer], annotations: { pad: '' } });
      return Buffer.from(base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`));
    };

    it('a manifest of exactly 4 MiB is accepted', async () => {
      const body = await padded(MAX_MANIFEST);
      assert.equal(body.length, MAX_MANIFEST);
      assert.equal((await put('m/size', 'limit', body, MEDIA.ociManifest)).status, 201);
      await assertManifest('m/size', 'limit', body, MEDIA.ociManifest);
    });

    it('a manifest over 4 MiB is 413 SIZE_INVALID', async () => {
      const body = await padded(MAX_MANIFEST + 1);
      await assertRegistryError(await put('m/size', 'over', body, MEDIA.ociManifest), 413, 'SIZE_INVALID');
      await assertRegistryError(await client.fetch('/v2/m/size/manifests/over'), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest over 4 MiB sent without Content-Length is 413 SIZE_INVALID', async () => {
      const body = await padded(MAX_MANIFEST + 100_000);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < body.length; i += 65536) controller.enqueue(new Uint8Array(body.subarray(i, i + 65536)));
          controller.close();
        },
      });
      const res = await send(client.url('/v2/m/size/manifests/over-chunked'), {
        method: 'PUT', body: stream, duplex: 'half', headers: { 'Content-Type': MEDIA.ociManifest },
      });
      await assertRegistryError(res, 413, 'SIZE_INVALID');
      await assertRegistryError(await client.fetch('/v2/m/size/manifests/over-chunked'), 404, 'MANIFEST_UNKNOWN');
    });
  });

  describe('DELETE', () => {
    it('by tag removes only the tag: 202, the manifest and its other tags stay', async () => {
      const image = await client.pushImage('m/del-tag', 'one');
      assert.equal((await put('m/del-tag', 'two', image.body, MEDIA.ociManifest)).status, 201);
      const res = await client.fetch('/v2/m/del-tag/manifests/one', { method: 'DELETE' });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('content-length'), '0');
      await assertRegistryError(await client.fetch('/v2/m/del-tag/manifests/one'), 404, 'MANIFEST_UNKNOWN');
      await assertManifest('m/del-tag', 'two', image.body, MEDIA.ociManifest);
      await assertManifest('m/del-tag', image.digest, image.body, MEDIA.ociManifest);
      assert.deepEqual(await (await client.fetch('/v2/m/del-tag/tags/list')).json(), { name: 'm/del-tag', tags: ['two'] });
    });

    it('an unknown tag is 404 MANIFEST_UNKNOWN', async () => {
      await client.pushImage('m/del-tag', 'kept');
      await assertRegistryError(await client.fetch('/v2/m/del-tag/manifests/nosuchtag', { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
      await assertRegistryError(await client.fetch('/v2/m/del-nothing/manifests/latest', { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });

    it('by digest removes the manifest and every tag pointing at it', async () => {
      const image = await client.pushImage('m/del-digest', 'a');
      const other = await client.pushImage('m/del-digest', 'other');
      assert.equal((await put('m/del-digest', 'b', image.body, MEDIA.ociManifest)).status, 201);
      await assertManifest('m/del-digest', 'a', image.body, MEDIA.ociManifest);
      const res = await client.fetch(`/v2/m/del-digest/manifests/${image.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      await assertRegistryError(await client.fetch(`/v2/m/del-digest/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/m/del-digest/manifests/${image.digest}`, { method: 'HEAD' }), 404, 'MANIFEST_UNKNOWN', 'HEAD');
      await assertRegistryError(await client.fetch('/v2/m/del-digest/manifests/a'), 404, 'MANIFEST_UNKNOWN');
      await assertRegistryError(await client.fetch('/v2/m/del-digest/manifests/b'), 404, 'MANIFEST_UNKNOWN');
      await assertManifest('m/del-digest', 'other', other.body, MEDIA.ociManifest);
      assert.deepEqual(await (await client.fetch('/v2/m/del-digest/tags/list')).json(), { name: 'm/del-digest', tags: ['other'] });
      await assertRegistryError(await client.fetch(`/v2/m/del-digest/manifests/${image.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });

    it('a deleted manifest can be pushed again', async () => {
      const image = await client.pushImage('m/del-again', 'v');
      assert.equal((await client.fetch(`/v2/m/del-again/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await put('m/del-again', 'v', image.body, MEDIA.ociManifest)).status, 201);
      await assertManifest('m/del-again', 'v', image.body, MEDIA.ociManifest);
    });

    it('a manifest an index lists is refused with 409 and a message naming the index; after the index goes, it can go', async () => {
      const child = await client.pushImage('m/del-child', 'child');
      const index = await client.pushIndex('m/del-child', 'index', [child.descriptor]);
      const res = await client.fetch(`/v2/m/del-child/manifests/${child.digest}`, { method: 'DELETE' });
      const error = await assertRegistryError(res, 409, 'DENIED');
      assert.match(error!.message, new RegExp(`${child.digest}.*index ${index.digest}`));
      assert.match(error!.message, /delete the index first/);
      assert.deepEqual(error!.detail, { digest: child.digest, referencedBy: index.digest });
      await assertManifest('m/del-child', child.digest, child.body, MEDIA.ociManifest);
      // Deleting the child's tag is fine: the tag is not what the index references.
      assert.equal((await client.fetch('/v2/m/del-child/manifests/child', { method: 'DELETE' })).status, 202);
      assert.equal((await client.fetch(`/v2/m/del-child/manifests/${index.digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await client.fetch(`/v2/m/del-child/manifests/${child.digest}`, { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch(`/v2/m/del-child/manifests/${child.digest}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('references are per repository: an index in A does not keep B from deleting the same manifest', async () => {
      const image = await client.pushImage('m/del-a', 'v');
      for (const blob of [image.config, ...image.layers]) {
        const mount = await client.fetch(`/v2/m/del-b/blobs/uploads/?mount=${blob.digest}&from=m/del-a`, { method: 'POST' });
        assert.equal(mount.status, 201);
      }
      assert.equal((await put('m/del-b', 'v', image.body, MEDIA.ociManifest)).status, 201);
      await client.pushIndex('m/del-a', 'index', [image.descriptor]);
      await assertRegistryError(await client.fetch(`/v2/m/del-a/manifests/${image.digest}`, { method: 'DELETE' }), 409, 'DENIED');
      assert.equal((await client.fetch(`/v2/m/del-b/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch(`/v2/m/del-b/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      await assertManifest('m/del-a', image.digest, image.body, MEDIA.ociManifest);
    });
  });

  describe('reads see writes at once', () => {
    it('GET by tag follows a re-push and a delete immediately', async () => {
      const first = await client.pushImage('m/fresh', 'x');
      await assertManifest('m/fresh', 'x', first.body, MEDIA.ociManifest);
      const second = await client.pushImage('m/fresh', 'x');
      await assertManifest('m/fresh', 'x', second.body, MEDIA.ociManifest);
      assert.equal((await client.fetch('/v2/m/fresh/manifests/x', { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch('/v2/m/fresh/manifests/x'), 404, 'MANIFEST_UNKNOWN');
      await assertManifest('m/fresh', second.digest, second.body, MEDIA.ociManifest);
      assert.equal((await client.fetch(`/v2/m/fresh/manifests/${second.digest}`, { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch(`/v2/m/fresh/manifests/${second.digest}`), 404, 'MANIFEST_UNKNOWN');
    });
  });
});
