import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertRegistryError, EMPTY_CONFIG, MEDIA, randomBlob, RegistryClient, unknownDigest, type Descriptor, type PushedImage,
} from '../../helpers/registry-client.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

const SIGNATURE = 'application/vnd.example.signature.v1+json';
const SBOM = 'application/spdx+json';

describe('registry HTTP: referrers', () => {
  let server: TestServer;
  let client: RegistryClient;
  let subject: PushedImage;
  let signature: PushedImage;
  let sbom: PushedImage;

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
    subject = await client.pushImage('r/app', 'v1');
    const empty = { mediaType: MEDIA.ociEmpty, content: EMPTY_CONFIG };
    signature = await client.pushImage('r/app', undefined, {
      config: empty, artifactType: SIGNATURE, layers: [randomBlob(40)], subject: subject.descriptor,
      annotations: { 'org.example.signer': 'alice' },
    });
    sbom = await client.pushImage('r/app', undefined, { config: empty, artifactType: SBOM, layers: [randomBlob(40)], subject: subject.descriptor });
  });
  after(() => server.close());

  const referrers = async (repository: string, digest: string, query = ''): Promise<{ res: Response; index: Index }> => {
    const res = await client.fetch(`/v2/${repository}/referrers/${digest}${query}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
    const index = await res.json() as Index;
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MEDIA.ociIndex);
    assert.ok(Array.isArray(index.manifests));
    return { res, index };
  };

  it('lists the manifests whose subject is the digest, as an OCI index of descriptors', async () => {
    const { res, index } = await referrers('r/app', subject.digest);
    assert.equal(res.headers.get('oci-filters-applied'), null);
    const byDigest = new Map(index.manifests.map((m) => [m.digest, m]));
    assert.equal(index.manifests.length, 2);
    assert.deepEqual(byDigest.get(signature.digest), {
      mediaType: MEDIA.ociManifest, digest: signature.digest, size: signature.body.length,
      artifactType: SIGNATURE, annotations: { 'org.example.signer': 'alice' },
    });
    assert.deepEqual(byDigest.get(sbom.digest), { mediaType: MEDIA.ociManifest, digest: sbom.digest, size: sbom.body.length, artifactType: SBOM });
  });

  it('the Content-Length matches the body', async () => {
    const res = await client.fetch(`/v2/r/app/referrers/${subject.digest}`);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('content-length'), String(body.length));
  });

  it('artifactType filters, and OCI-Filters-Applied says so', async () => {
    const { res, index } = await referrers('r/app', subject.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(index.manifests.map((m) => m.digest), [sbom.digest]);
  });

  it('a filter that matches nothing gives an empty index, still with OCI-Filters-Applied', async () => {
    const { res, index } = await referrers('r/app', subject.digest, '?artifactType=application%2Fvnd.example.none');
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(index.manifests, []);
  });

  it('an unknown subject is 200 with an empty index', async () => {
    const { res, index } = await referrers('r/app', unknownDigest());
    assert.equal(res.headers.get('oci-filters-applied'), null);
    assert.deepEqual(index, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] });
  });

  it('an unknown repository is 200 with an empty index too', async () => {
    const { index } = await referrers('r/never-pushed', subject.digest);
    assert.deepEqual(index.manifests, []);
  });

  it('a manifest without subject does not refer to anything', async () => {
    const { index } = await referrers('r/app', signature.digest);
    assert.deepEqual(index.manifests, []);
  });

  it('an image manifest without artifactType is listed with its config media type', async () => {
    const base = await client.pushImage('r/config-type', 'v1');
    const referrer = await client.pushImage('r/config-type', undefined, {
      config: { mediaType: 'application/vnd.example.config.v1+json', content: Buffer.from('{"k":1}') }, subject: base.descriptor,
    });
    const { index } = await referrers('r/config-type', base.digest);
    assert.deepEqual(index.manifests, [{ mediaType: MEDIA.ociManifest, digest: referrer.digest, size: referrer.body.length, artifactType: 'application/vnd.example.config.v1+json' }]);
    const filtered = await referrers('r/config-type', base.digest, `?artifactType=${encodeURIComponent('application/vnd.example.config.v1+json')}`);
    assert.equal(filtered.index.manifests.length, 1);
  });

  it('an index with a subject is listed with the index media type', async () => {
    const base = await client.pushImage('r/index-referrer', 'v1');
    const child = await client.pushImage('r/index-referrer');
    const { digest, body } = await client.pushManifest('r/index-referrer', 'bundle', {
      schemaVersion: 2, mediaType: MEDIA.ociIndex, artifactType: 'application/vnd.example.bundle', manifests: [child.descriptor], subject: base.descriptor,
    });
    const { index } = await referrers('r/index-referrer', base.digest);
    assert.deepEqual(index.manifests, [{ mediaType: MEDIA.ociIndex, digest, size: body.length, artifactType: 'application/vnd.example.bundle' }]);
  });

  it('a referrer pushed before its subject is listed', async () => {
    const absent = unknownDigest();
    const early = await client.pushImage('r/early', undefined, {
      config: { mediaType: MEDIA.ociEmpty, content: EMPTY_CONFIG }, artifactType: SIGNATURE, layers: [],
      subject: { mediaType: MEDIA.ociManifest, digest: absent, size: 100 },
    });
    const { index } = await referrers('r/early', absent);
    assert.deepEqual(index.manifests.map((m) => m.digest), [early.digest]);
  });

  it('referrers are per repository', async () => {
    const image = await client.pushImage('r/iso-a', 'v1');
    for (const blob of [image.config, ...image.layers]) {
      assert.equal((await client.fetch(`/v2/r/iso-b/blobs/uploads/?mount=${blob.digest}&from=r/iso-a`, { method: 'POST' })).status, 201);
    }
    await client.pushManifest('r/iso-b', 'v1', image.body, MEDIA.ociManifest);
    const sig = await client.pushImage('r/iso-b', undefined, {
      config: { mediaType: MEDIA.ociEmpty, content: EMPTY_CONFIG }, artifactType: SIGNATURE, subject: image.descriptor,
    });
    assert.deepEqual((await referrers('r/iso-b', image.digest)).index.manifests.map((m) => m.digest), [sig.digest]);
    assert.deepEqual((await referrers('r/iso-a', image.digest)).index.manifests, []);
  });

  it('a deleted referrer leaves the list', async () => {
    const base = await client.pushImage('r/delete', 'v1');
    const keep = await client.pushImage('r/delete', undefined, { config: { mediaType: MEDIA.ociEmpty, content: EMPTY_CONFIG }, artifactType: SBOM, subject: base.descriptor });
    const drop = await client.pushImage('r/delete', undefined, { config: { mediaType: MEDIA.ociEmpty, content: EMPTY_CONFIG }, artifactType: SIGNATURE, subject: base.descriptor });
    assert.equal((await referrers('r/delete', base.digest)).index.manifests.length, 2);
    assert.equal((await client.fetch(`/v2/r/delete/manifests/${drop.digest}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await referrers('r/delete', base.digest)).index.manifests.map((m) => m.digest), [keep.digest]);
  });

  it('works with a sha512 subject', async () => {
    const base = await client.pushImage('r/sha512', 'v1');
    const subject512 = { mediaType: MEDIA.ociManifest, digest: `sha512:${'ab'.repeat(64)}`, size: base.body.length };
    const ref = await client.pushImage('r/sha512', undefined, { config: { mediaType: MEDIA.ociEmpty, content: EMPTY_CONFIG }, artifactType: SBOM, subject: subject512 });
    assert.deepEqual((await referrers('r/sha512', subject512.digest)).index.manifests.map((m) => m.digest), [ref.digest]);
  });

  it('an invalid digest is 400 DIGEST_INVALID', async () => {
    await assertRegistryError(await client.fetch('/v2/r/app/referrers/sha256:1234'), 400, 'DIGEST_INVALID');
    await assertRegistryError(await client.fetch('/v2/r/app/referrers/latest'), 400, 'DIGEST_INVALID');
  });
});
