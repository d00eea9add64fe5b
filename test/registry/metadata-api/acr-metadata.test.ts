import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertRegistryError, RegistryClient, type PushedImage } from '../../helpers/registry-client.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ALL_ENABLED = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };

/** ACR's metadata API (/acr/v1) in the shapes of ACR, and its changeable attributes enforced on the data plane. */
describe('ACR metadata API and changeable attributes', () => {
  let server: TestServer;
  let client: RegistryClient;
  let host: string;

  before(async () => {
    server = await startTestServer({ anonymousPull: false });
    client = new RegistryClient(server.registryUrl);
    host = new URL(server.registryUrl).host;
  });
  after(() => server.close());

  const json = async (path: string, init: RequestInit & { body?: string } = {}) => {
    const res = await client.fetch(path, { ...init, ...(init.body ? { headers: { 'Content-Type': 'application/json' } } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) as Record<string, unknown> : undefined, link: res.headers.get('link') };
  };
  const patch = (path: string, attributes: Record<string, unknown>) => json(path, { method: 'PATCH', body: JSON.stringify(attributes) });

  describe('reading', () => {
    let v1: PushedImage;
    before(async () => {
      v1 = await client.pushImage('meta/app', 'v1');
      await client.pushManifest('meta/app', 'latest', v1.body, 'application/vnd.oci.image.manifest.v1+json');
      await client.pushImage('meta/app', 'v2');
    });

    it('GET /acr/v1/_catalog lists repositories, with ACR\'s paging', async () => {
      await client.pushImage('meta/other', 'v1');
      const all = await json('/acr/v1/_catalog');
      assert.deepEqual(all.body, { repositories: ['meta/app', 'meta/other'] });
      const first = await json('/acr/v1/_catalog?n=1');
      assert.deepEqual(first.body, { repositories: ['meta/app'] });
      assert.equal(first.link, '</acr/v1/_catalog?last=meta%2Fapp&n=1&orderby=>; rel="next"');
    });

    it('GET /acr/v1/{name}: the repository with its counts, times and attributes', async () => {
      const { status, body } = await json('/acr/v1/meta/app');
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body!), ['registry', 'imageName', 'createdTime', 'lastUpdateTime', 'manifestCount', 'tagCount', 'changeableAttributes']);
      assert.equal(body!['registry'], host);
      assert.equal(body!['imageName'], 'meta/app');
      assert.equal(body!['manifestCount'], 2);
      assert.equal(body!['tagCount'], 3);
      assert.deepEqual(body!['changeableAttributes'], ALL_ENABLED);
      assert.ok(Date.parse(body!['lastUpdateTime'] as string) >= Date.parse(body!['createdTime'] as string));
      await assertRegistryError(await client.fetch('/acr/v1/meta/nothing'), 404, 'NAME_UNKNOWN');
    });

    it('GET /acr/v1/{name}/_tags and /_tags/{tag}', async () => {
      const { body } = await json('/acr/v1/meta/app/_tags');
      const tags = body!['tags'] as Array<Record<string, unknown>>;
      assert.deepEqual(tags.map((t) => t['name']), ['latest', 'v1', 'v2']);
      assert.deepEqual(Object.keys(tags[0]!), ['name', 'digest', 'createdTime', 'lastUpdateTime', 'signed', 'changeableAttributes']);
      const byDigest = await json(`/acr/v1/meta/app/_tags?digest=${v1.digest}`);
      assert.deepEqual((byDigest.body!['tags'] as Array<{ name: string }>).map((t) => t.name), ['latest', 'v1']);
      const paged = await json('/acr/v1/meta/app/_tags?n=2&orderby=timeasc');
      assert.equal((paged.body!['tags'] as unknown[]).length, 2);
      assert.match(paged.link ?? '', /^<\/acr\/v1\/meta\/app\/_tags\?last=[^&]+&n=2&orderby=timeasc>; rel="next"$/);
      // A `last` that is not a tag (deleted since the previous page) goes on from where it would be, never from the top.
      const names = async (query: string) => ((await json(`/acr/v1/meta/app/_tags?${query}`)).body!['tags'] as Array<{ name: string }>).map((t) => t.name);
      assert.deepEqual(await names('last=m&n=1'), ['v1']);
      assert.deepEqual(await names('last=zzzz'), []);
      assert.deepEqual(await names('last=gone&orderby=timedesc'), []);
      const one = await json('/acr/v1/meta/app/_tags/v1');
      assert.deepEqual({ ...one.body, tag: undefined }, { registry: host, imageName: 'meta/app', tag: undefined });
      assert.equal((one.body!['tag'] as { digest: string }).digest, v1.digest);
      await assertRegistryError(await client.fetch('/acr/v1/meta/app/_tags/nope'), 404, 'MANIFEST_UNKNOWN');
    });

    it('GET /acr/v1/{name}/_manifests and /_manifests/{digest}', async () => {
      const { body } = await json('/acr/v1/meta/app/_manifests');
      const manifests = body!['manifests'] as Array<Record<string, unknown>>;
      assert.equal(manifests.length, 2);
      const m = manifests.find((x) => x['digest'] === v1.digest)!;
      assert.deepEqual(m['tags'], ['latest', 'v1']);
      assert.equal(m['mediaType'], 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(m['configMediaType'], 'application/vnd.oci.image.config.v1+json');
      assert.equal(m['imageSize'], v1.body.length + v1.config.size + v1.layers.reduce((n, l) => n + l.size, 0));
      const one = await json(`/acr/v1/meta/app/_manifests/${v1.digest}`);
      assert.deepEqual(one.body!['manifest'], m);
    });
  });

  describe('changeable attributes, enforced', () => {
    it('PATCH returns the object with its new attributes; a bad body is 400', async () => {
      await client.pushImage('locks/bad', 'v1');
      const { status, body } = await patch('/acr/v1/locks/bad/_tags/v1', { writeEnabled: false });
      assert.equal(status, 200);
      assert.deepEqual((body!['tag'] as { changeableAttributes: object }).changeableAttributes, { ...ALL_ENABLED, writeEnabled: false });
      assert.equal((await patch('/acr/v1/locks/bad', { readEnabled: 'no' })).status, 400);
      assert.equal((await json('/acr/v1/locks/bad', { method: 'PATCH', body: 'not json' })).status, 400);
    });

    it('readEnabled=false on a tag or manifest refuses its pull; on the repository, every pull', async () => {
      const image = await client.pushImage('locks/read', 'v1');
      await client.pushImage('locks/read', 'v2');
      await patch('/acr/v1/locks/read/_tags/v1', { readEnabled: false });
      await assertRegistryError(await client.fetch('/v2/locks/read/manifests/v1'), 403, 'DENIED');
      assert.equal((await client.fetch(`/v2/locks/read/manifests/${image.digest}`)).status, 200, 'the manifest itself is readable by digest');
      await patch('/acr/v1/locks/read/_tags/v1', { readEnabled: true });
      await patch(`/acr/v1/locks/read/_manifests/${image.digest}`, { readEnabled: false });
      await assertRegistryError(await client.fetch('/v2/locks/read/manifests/v1'), 403, 'DENIED');
      await assertRegistryError(await client.fetch(`/v2/locks/read/manifests/${image.digest}`, { method: 'HEAD' }), 403, 'DENIED', 'HEAD');
      assert.equal((await client.fetch('/v2/locks/read/manifests/v2')).status, 200);
      await patch('/acr/v1/locks/read', { readEnabled: false });
      await assertRegistryError(await client.fetch('/v2/locks/read/manifests/v2'), 403, 'DENIED');
      await assertRegistryError(await client.fetch(`/v2/locks/read/blobs/${image.layers[0]!.digest}`), 403, 'DENIED');
      await patch('/acr/v1/locks/read', { readEnabled: true });
      assert.equal((await client.fetch('/v2/locks/read/manifests/v2')).status, 200);
    });

    it('writeEnabled=false locks an image: no overwrite of the tag, no delete of tag or manifest', async () => {
      const image = await client.pushImage('locks/write', 'v1');
      await patch('/acr/v1/locks/write/_tags/v1', { writeEnabled: false });
      const other = await client.pushImage('locks/write');
      const overwrite = await client.fetch('/v2/locks/write/manifests/v1', { method: 'PUT', body: other.body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      await assertRegistryError(overwrite, 403, 'DENIED');
      await assertRegistryError(await client.fetch('/v2/locks/write/manifests/v1', { method: 'DELETE' }), 403, 'DENIED');
      await assertRegistryError(await client.fetch(`/v2/locks/write/manifests/${image.digest}`, { method: 'DELETE' }), 403, 'DENIED');
      await assertRegistryError(await client.fetch('/acr/v1/locks/write/_tags/v1', { method: 'DELETE' }), 403, 'DENIED');
      assert.equal((await client.fetch('/v2/locks/write/manifests/v1')).status, 200, 'a locked image is still pulled');
      await patch('/acr/v1/locks/write', { writeEnabled: false });
      await assertRegistryError(await client.fetch('/v2/locks/write/blobs/uploads/', { method: 'POST' }), 403, 'DENIED');
      await patch('/acr/v1/locks/write', { writeEnabled: true });
      await patch('/acr/v1/locks/write/_tags/v1', { writeEnabled: true });
      assert.equal((await client.fetch(`/v2/locks/write/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
    });

    it('deleteEnabled=false refuses deletes only', async () => {
      const image = await client.pushImage('locks/delete', 'v1');
      await patch(`/acr/v1/locks/delete/_manifests/${image.digest}`, { deleteEnabled: false });
      await assertRegistryError(await client.fetch(`/v2/locks/delete/manifests/${image.digest}`, { method: 'DELETE' }), 403, 'DENIED');
      await assertRegistryError(await client.fetch('/acr/v1/locks/delete', { method: 'DELETE' }), 403, 'DENIED');
      await client.pushManifest('locks/delete', 'v2', image.body, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal((await client.fetch('/v2/locks/delete/manifests/v2', { method: 'DELETE' })).status, 202, 'untagging leaves the manifest');
    });

    it('listEnabled=false hides a repository, tag or manifest from listings, not from pulls', async () => {
      const image = await client.pushImage('locks/list', 'v1');
      await client.pushImage('locks/list', 'v2');
      await patch('/acr/v1/locks/list/_tags/v1', { listEnabled: false });
      assert.deepEqual((await (await client.fetch('/v2/locks/list/tags/list')).json() as { tags: string[] }).tags, ['v2']);
      assert.deepEqual(((await json('/acr/v1/locks/list/_tags')).body!['tags'] as Array<{ name: string }>).map((t) => t.name), ['v2']);
      await patch(`/acr/v1/locks/list/_manifests/${image.digest}`, { listEnabled: false });
      assert.equal(((await json('/acr/v1/locks/list/_manifests')).body!['manifests'] as unknown[]).length, 1);
      assert.equal((await client.fetch('/v2/locks/list/manifests/v1')).status, 200);
      await patch('/acr/v1/locks/list', { listEnabled: false });
      assert.equal(((await (await client.fetch('/v2/_catalog')).json()) as { repositories: string[] }).repositories.includes('locks/list'), false);
      assert.equal(((await json('/acr/v1/_catalog')).body!['repositories'] as string[]).includes('locks/list'), false);
    });

    it('attributes go with what they describe: a deleted and re-pushed tag starts unlocked', async () => {
      const image = await client.pushImage('locks/gone', 'v1');
      await patch('/acr/v1/locks/gone/_tags/v1', { readEnabled: false });
      assert.equal((await client.fetch('/v2/locks/gone/manifests/v1', { method: 'DELETE' })).status, 202);
      await client.pushManifest('locks/gone', 'v1', image.body, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal((await client.fetch('/v2/locks/gone/manifests/v1')).status, 200);
    });
  });

  describe('deleting', () => {
    it('DELETE /acr/v1/{name}/_tags/{tag} untags; DELETE /acr/v1/{name} removes every manifest and tag, index first', async () => {
      const a = await client.pushImage('del/app', 'a');
      const b = await client.pushImage('del/app', 'b');
      const index = await client.pushIndex('del/app', 'multi', [a.descriptor, b.descriptor]);
      assert.equal((await client.fetch('/acr/v1/del/app/_tags/b', { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch('/v2/del/app/manifests/b'), 404, 'MANIFEST_UNKNOWN');
      const { status, body } = await json('/acr/v1/del/app', { method: 'DELETE' });
      assert.equal(status, 202);
      assert.deepEqual(new Set(body!['manifestsDeleted'] as string[]), new Set([a.digest, b.digest, index.digest]));
      assert.deepEqual(new Set(body!['tagsDeleted'] as string[]), new Set(['a', 'multi']));
      await assertRegistryError(await client.fetch('/acr/v1/del/app'), 404, 'NAME_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/del/app/manifests/${a.digest}`), 404, 'MANIFEST_UNKNOWN');
    });
  });
});
