import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { assertRegistryError, MEDIA, randomBlob, RegistryClient } from '../../helpers/registry-client.js';
import { startTestServer, useAdminUser, type TestServer } from '../../helpers/server.js';

/** The target of a `Link: <...>; rel="next"` header, or undefined when there is none. */
function nextLink(res: Response): string | undefined {
  const link = res.headers.get('link');
  if (link === null) return undefined;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  assert.ok(m, `malformed Link header ${link}`);
  return m[1];
}

describe('registry HTTP: tags list and catalog', () => {
  let server: TestServer;
  let client: RegistryClient;
  // Lexical (byte) order: digits, then upper case, then underscore, then lower case.
  const tags = ['1.0', '10', '2', 'A', '_x', 'latest', 'v1', 'v1.1'];

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
    const image = await client.pushImage('t/app');
    for (const tag of [...tags].reverse()) await client.pushManifest('t/app', tag, image.body, MEDIA.ociManifest);
  });
  after(() => server.close());

  describe('GET /v2/<name>/tags/list', () => {
    it('lists every tag in lexical order with the repository name', async () => {
      const res = await client.fetch('/v2/t/app/tags/list');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(res.headers.get('link'), null);
      assert.deepEqual(await res.json(), { name: 't/app', tags });
    });

    it('n limits the page and Link points at the next one', async () => {
      const res = await client.fetch('/v2/t/app/tags/list?n=3');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { name: 't/app', tags: tags.slice(0, 3) });
      assert.equal(res.headers.get('link'), '</v2/t/app/tags/list?n=3&last=2>; rel="next"');
    });

    it('following the Link headers walks every tag exactly once', async () => {
      const seen: string[] = [];
      let path: string | undefined = '/v2/t/app/tags/list?n=3';
      let pages = 0;
      while (path !== undefined) {
        const res = await client.fetch(path);
        assert.equal(res.status, 200);
        const body = await res.json() as { tags: string[] };
        assert.ok(body.tags.length <= 3);
        seen.push(...body.tags);
        path = nextLink(res);
        pages++;
      }
      assert.deepEqual(seen, tags);
      assert.equal(pages, 3);
    });

    it('last alone lists the tags after it', async () => {
      const res = await client.fetch('/v2/t/app/tags/list?last=A');
      assert.deepEqual(await res.json(), { name: 't/app', tags: ['_x', 'latest', 'v1', 'v1.1'] });
      assert.equal(res.headers.get('link'), null);
    });

    it('last need not be a tag that exists', async () => {
      const res = await client.fetch('/v2/t/app/tags/list?n=2&last=b');
      assert.deepEqual(await res.json(), { name: 't/app', tags: ['latest', 'v1'] });
      assert.equal(res.headers.get('link'), '</v2/t/app/tags/list?n=2&last=v1>; rel="next"');
    });

    it('n equal to the number of tags left gives no Link', async () => {
      const res = await client.fetch(`/v2/t/app/tags/list?n=${tags.length}`);
      assert.deepEqual((await res.json() as { tags: string[] }).tags, tags);
      assert.equal(res.headers.get('link'), null);
      const rest = await client.fetch('/v2/t/app/tags/list?n=2&last=v1');
      assert.deepEqual((await rest.json() as { tags: string[] }).tags, ['v1.1']);
      assert.equal(rest.headers.get('link'), null);
    });

    it('n larger than the number of tags lists them all', async () => {
      const res = await client.fetch('/v2/t/app/tags/list?n=1000');
      assert.deepEqual((await res.json() as { tags: string[] }).tags, tags);
      assert.equal(res.headers.get('link'), null);
    });

    it('n=0 gives an empty list', async () => {
      const res = await client.fetch('/v2/t/app/tags/list?n=0');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { name: 't/app', tags: [] });
      assert.equal(res.headers.get('link'), null);
    });

    it('last past the final tag gives an empty list', async () => {
      const res = await client.fetch('/v2/t/app/tags/list?n=5&last=zzz');
      assert.deepEqual(await res.json(), { name: 't/app', tags: [] });
      assert.equal(res.headers.get('link'), null);
    });

    for (const n of ['-1', 'abc', '1.5', '', '1e3', '0x10']) {
      it(`n=${JSON.stringify(n)} is 400 PAGINATION_NUMBER_INVALID`, async () => {
        await assertRegistryError(await client.fetch(`/v2/t/app/tags/list?n=${encodeURIComponent(n)}`), 400, 'PAGINATION_NUMBER_INVALID');
      });
    }

    it('an unknown repository is 404 NAME_UNKNOWN', async () => {
      const error = await assertRegistryError(await client.fetch('/v2/t/nothing-here/tags/list'), 404, 'NAME_UNKNOWN');
      assert.match(error!.message, /t\/nothing-here/);
    });

    it('a repository that only saw blobs, or a cancelled upload, is 404 NAME_UNKNOWN too, as in the catalog', async () => {
      const location = await client.startUpload('t/cancelled');
      assert.equal((await client.fetch(location, { method: 'DELETE' })).status, 204);
      await assertRegistryError(await client.fetch('/v2/t/cancelled/tags/list'), 404, 'NAME_UNKNOWN');
      await client.pushBlob('t/blobs-only', randomBlob(10));
      await assertRegistryError(await client.fetch('/v2/t/blobs-only/tags/list'), 404, 'NAME_UNKNOWN');
    });

    it('a repository whose tags were all deleted lists none', async () => {
      const image = await client.pushImage('t/untagged', 'only');
      assert.equal((await client.fetch('/v2/t/untagged/manifests/only', { method: 'DELETE' })).status, 202);
      const res = await client.fetch('/v2/t/untagged/tags/list');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { name: 't/untagged', tags: [] });
      assert.equal((await client.fetch(`/v2/t/untagged/manifests/${image.digest}`, { method: 'HEAD' })).status, 200);
    });

    it('tags are per repository', async () => {
      await client.pushImage('t/other', 'solo');
      assert.deepEqual(await (await client.fetch('/v2/t/other/tags/list')).json(), { name: 't/other', tags: ['solo'] });
      assert.equal(((await (await client.fetch('/v2/t/app/tags/list')).json()) as { tags: string[] }).tags.includes('solo'), false);
    });
  });

  describe('GET /v2/_catalog', () => {
    let repositories: string[];

    before(async () => {
      // Whatever the tag tests above pushed, plus some more.
      for (const name of ['c/alpha', 'c/beta', 'c/gamma/deep', 'c/delta']) await client.pushImage(name, 'v1');
      const res = await client.fetch('/v2/_catalog');
      repositories = ((await res.json()) as { repositories: string[] }).repositories;
    });

    it('lists the repositories with manifests in lexical order', async () => {
      const res = await client.fetch('/v2/_catalog');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(res.headers.get('link'), null);
      const body = await res.json() as { repositories: string[] };
      for (const name of ['c/alpha', 'c/beta', 'c/delta', 'c/gamma/deep', 't/app', 't/other', 't/untagged']) {
        assert.ok(body.repositories.includes(name), `${name} in ${body.repositories.join(', ')}`);
      }
      assert.deepEqual(body.repositories, [...body.repositories].sort());
    });

    it('leaves out repositories that only hold blobs', async () => {
      await client.pushBlob('c/blobs-only', randomBlob(10));
      const body = await (await client.fetch('/v2/_catalog')).json() as { repositories: string[] };
      assert.equal(body.repositories.includes('c/blobs-only'), false);
    });

    it('n limits the page and Link points at the next one, with the name encoded', async () => {
      const res = await client.fetch('/v2/_catalog?n=2');
      assert.deepEqual(await res.json(), { repositories: repositories.slice(0, 2) });
      assert.equal(res.headers.get('link'), `</v2/_catalog?${new URLSearchParams({ n: '2', last: repositories[1]! })}>; rel="next"`);
    });

    it('following the Link headers walks every repository exactly once', async () => {
      const seen: string[] = [];
      let path: string | undefined = '/v2/_catalog?n=3';
      while (path !== undefined) {
        const res = await client.fetch(path);
        assert.equal(res.status, 200);
        const body = await res.json() as { repositories: string[] };
        assert.ok(body.repositories.length <= 3);
        seen.push(...body.repositories);
        path = nextLink(res);
      }
      assert.deepEqual(seen, repositories);
    });

    it('last lists the repositories after it', async () => {
      const res = await client.fetch('/v2/_catalog?last=c/beta&n=2');
      assert.deepEqual(await res.json(), { repositories: ['c/delta', 'c/gamma/deep'] });
      assert.ok(res.headers.get('link'));
    });

    it('n=0 gives an empty list', async () => {
      const res = await client.fetch('/v2/_catalog?n=0');
      assert.deepEqual(await res.json(), { repositories: [] });
      assert.equal(res.headers.get('link'), null);
    });

    for (const n of ['-5', 'ten', '']) {
      it(`n=${JSON.stringify(n)} is 400 PAGINATION_NUMBER_INVALID`, async () => {
        await assertRegistryError(await client.fetch(`/v2/_catalog?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
      });
    }

    it('a repository whose manifests are all deleted leaves the catalog', async () => {
      const image = await client.pushImage('c/gone', 'v1');
      assert.ok(((await (await client.fetch('/v2/_catalog')).json()) as { repositories: string[] }).repositories.includes('c/gone'));
      assert.equal((await client.fetch(`/v2/c/gone/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
      assert.equal(((await (await client.fetch('/v2/_catalog')).json()) as { repositories: string[] }).repositories.includes('c/gone'), false);
    });
  });

  describe('several registries in one server', () => {
    it('each registry has its own catalog, repositories and blobs', async () => {
      const other = await server.app.registries.create('otherregistry', { anonymousPull: true });
      const otherClient = new RegistryClient(`http://${other.loginServer}`);
      await useAdminUser(server.app, other, otherClient.baseUrl);
      // The server picks up new registries on its next reconcile.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ok = await otherClient.fetch('/v2/').then((r) => r.status === 200, () => false);
        if (ok) break;
        assert.ok(Date.now() < deadline, 'the new registry never answered');
        await sleep(200);
      }
      const image = await otherClient.pushImage('only/here', 'v1');
      assert.deepEqual(await (await otherClient.fetch('/v2/_catalog')).json(), { repositories: ['only/here'] });
      const mainCatalog = await (await client.fetch('/v2/_catalog')).json() as { repositories: string[] };
      assert.equal(mainCatalog.repositories.includes('only/here'), false);
      await assertRegistryError(await client.fetch('/v2/only/here/tags/list'), 404, 'NAME_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/only/here/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      // A mount without `from` looks only in the registry's own repositories.
      const mount = await client.fetch(`/v2/t/app/blobs/uploads/?mount=${image.layers[0]!.digest}`, { method: 'POST' });
      assert.equal(mount.status, 202);
      await assertRegistryError(await client.fetch(`/v2/t/app/blobs/${image.layers[0]!.digest}`), 404, 'BLOB_UNKNOWN');
    });
  });
});

describe('registry HTTP: listings longer than one page of 10,000', () => {
  let server: TestServer;
  let client: RegistryClient;
  const count = 10_002;
  const names = Array.from({ length: count }, (_, i) => `n${String(i).padStart(5, '0')}`);

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
    const { metadata } = server.app;
    const content = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
    const manifest = { digest: `sha256:${'a'.repeat(64)}` as const, mediaType: MEDIA.ociManifest, artifactType: null, subject: null, annotations: null, content, blobs: [], children: [] };
    // Written through the store: ten thousand pushes over HTTP would take minutes and test nothing more.
    for (const name of names) {
      assert.deepEqual(await metadata.putManifest(server.registry.id, 'many/tags', { ...manifest, tag: name }), { ok: true });
      assert.deepEqual(await metadata.putManifest(server.registry.id, `many/${name}`, manifest), { ok: true });
    }
  });
  after(() => server.close());

  for (const [what, path, key, expected] of [
    ['tags', '/v2/many/tags/tags/list', 'tags', names],
    ['the catalog', '/v2/_catalog', 'repositories', ['many/tags', ...names.map((n) => `many/${n}`)].sort()],
    ['the ACR catalog', '/acr/v1/_catalog', 'repositories', ['many/tags', ...names.map((n) => `many/${n}`)].sort()],
  ] as const) {
    it(`${what}: without n, or with n past the page limit, a Link leads to the rest`, async () => {
      for (const first of [path, `${path}?n=20000`]) {
        const seen: string[] = [];
        let next: string | undefined = first;
        while (next !== undefined) {
          const res = await client.fetch(next);
          assert.equal(res.status, 200);
          const page = ((await res.json()) as Record<string, string[]>)[key]!;
          assert.ok(page.length <= 10_000);
          seen.push(...page);
          next = nextLink(res);
        }
        assert.deepEqual(seen, expected, first);
      }
    });
  }
});
