import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertRegistryError, RegistryClient, send, unknownDigest } from '../../helpers/registry-client.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('registry HTTP: API base, routing and input validation', () => {
  let server: TestServer;
  let client: RegistryClient;

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
  });
  after(() => server.close());

  describe('requests that are not valid HTTP', () => {
    const errorOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { errors: Array<{ code: string; message: string }> };

    it('get 400 with OCI error JSON, not a bare status line: two Content-Lengths, a negative one, an unknown method', async () => {
      const port = Number(new URL(server.registryUrl).port);
      for (const head of ['PUT /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2', 'PUT /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1', 'FOO /v2/ HTTP/1.1\r\nHost: x']) {
        const answer = await rawRequest(port, head, 'x');
        assert.match(answer, /^HTTP\/1.1 400 Bad Request\r\n/, head);
        assert.match(answer, /\r\nContent-Type: application\/json/);
        assert.match(errorOf(answer).errors[0]!.message, /not valid HTTP\/1.1 \(HPE_/);
      }
    });

    it('get 431 with OCI error JSON for headers over 16 KiB', async () => {
      const answer = await rawRequest(Number(new URL(server.registryUrl).port), `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}`, '');
      assert.match(answer, /^HTTP\/1.1 431 /);
      assert.equal(errorOf(answer).errors[0]!.code, 'SIZE_INVALID');
    });
  });

  describe('GET /v2/', () => {
    it('answers 200 with an empty JSON object and the API version header', async () => {
      const res = await client.fetch('/v2/');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await res.json(), {});
    });

    it('answers HEAD with 200 and no body', async () => {
      const res = await client.fetch('/v2/', { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.equal(await res.text(), '');
    });

    it('is not served where no registry listens: the main port answers 404 NAME_UNKNOWN', async () => {
      const res = await fetch(`${server.server.url}/v2/`);
      const error = await assertRegistryError(res, 404, 'NAME_UNKNOWN');
      assert.match(error!.message, /no registry is served/);
    });
  });

  describe('routing', () => {
    it('answers an unknown path with 404 in OCI error JSON', async () => {
      await assertRegistryError(await client.fetch('/v2/repo/unknown/thing'), 404, 'NAME_UNKNOWN');
      await assertRegistryError(await client.fetch('/v2'), 404, 'NAME_UNKNOWN');
      await assertRegistryError(await client.fetch('/'), 404, 'NAME_UNKNOWN');
    });

    const unsupported: Array<{ method: string; path: string; allow: string[] }> = [
      { method: 'POST', path: '/v2/', allow: ['GET', 'HEAD'] },
      { method: 'DELETE', path: '/v2/_catalog', allow: ['GET'] },
      { method: 'PUT', path: '/v2/repo/tags/list', allow: ['GET'] },
      { method: 'PATCH', path: '/v2/repo/manifests/latest', allow: ['GET', 'HEAD', 'PUT', 'DELETE'] },
      { method: 'GET', path: '/v2/repo/blobs/uploads/', allow: ['POST'] },
      { method: 'POST', path: '/v2/repo/blobs/uploads/0f2a5c52-2d5b-4a57-9d6c-2cf1a0a6b4f1', allow: ['GET', 'PATCH', 'PUT', 'DELETE'] },
      { method: 'PUT', path: `/v2/repo/blobs/${unknownDigest()}`, allow: ['GET', 'HEAD', 'DELETE'] },
      { method: 'DELETE', path: `/v2/repo/referrers/${unknownDigest()}`, allow: ['GET'] },
    ];
    for (const { method, path, allow } of unsupported) {
      it(`answers ${method} ${path.replace(/sha256:\w+/, '<digest>')} with 405 UNSUPPORTED and Allow`, async () => {
        const res = await client.fetch(path, { method });
        const allowHeader = res.headers.get('allow');
        await assertRegistryError(res, 405, 'UNSUPPORTED');
        assert.deepEqual(allowHeader?.split(/,\s*/).sort(), [...allow].sort());
      });
    }

    it('routes repository names with several path components and separators', async () => {
      const name = 'team-a/sub.project/my__app--x/v1_0';
      await client.pushImage(name, 'latest');
      const res = await client.fetch(`/v2/${name}/manifests/latest`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      const tags = await client.fetch(`/v2/${name}/tags/list`);
      assert.deepEqual(await tags.json(), { name, tags: ['latest'] });
    });

    it('routes a repository whose name contains an API keyword', async () => {
      const name = 'x/manifests/blobs/tags';
      const image = await client.pushImage(name, 'v1');
      const res = await client.fetch(`/v2/${name}/manifests/v1`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      const blob = await client.fetch(`/v2/${name}/blobs/${image.config.digest}`, { method: 'HEAD' });
      assert.equal(blob.status, 200);
    });
  });

  describe('invalid repository names get 400 NAME_INVALID on every endpoint', () => {
    const badNames = [
      'UpperCase',
      '-leading',
      'trailing-',
      'double..dot',
      'triple___underscore',
      'a//b',
      'a/',
      'sp%20ace',
      'bad%zzencoding',
      `${'a'.repeat(256)}`,
    ];
    const endpoints = (name: string): Array<{ method: string; path: string }> => [
      { method: 'GET', path: `/v2/${name}/manifests/latest` },
      { method: 'HEAD', path: `/v2/${name}/manifests/latest` },
      { method: 'PUT', path: `/v2/${name}/manifests/latest` },
      { method: 'DELETE', path: `/v2/${name}/manifests/latest` },
      { method: 'GET', path: `/v2/${name}/blobs/${unknownDigest()}` },
      { method: 'DELETE', path: `/v2/${name}/blobs/${unknownDigest()}` },
      { method: 'POST', path: `/v2/${name}/blobs/uploads/` },
      { method: 'GET', path: `/v2/${name}/blobs/uploads/0f2a5c52-2d5b-4a57-9d6c-2cf1a0a6b4f1` },
      { method: 'GET', path: `/v2/${name}/tags/list` },
      { method: 'GET', path: `/v2/${name}/referrers/${unknownDigest()}` },
    ];
    for (const name of badNames) {
      it(`rejects ${JSON.stringify(name.length > 40 ? `${name.slice(0, 10)}... (${name.length} characters)` : name)}`, async () => {
        for (const { method, path } of endpoints(name)) {
          const res = await client.fetch(path, { method, ...(method === 'PUT' ? { body: '{}' } : {}) });
          await assertRegistryError(res, 400, 'NAME_INVALID', method);
        }
      });
    }

    it('accepts a name of exactly 255 characters', async () => {
      const name = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
      assert.equal(name.length, 255);
      const res = await client.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 202);
    });

    it('names the invalid repository in the error', async () => {
      const error = await assertRegistryError(await client.fetch('/v2/Bad/tags/list'), 400, 'NAME_INVALID');
      assert.match(error!.message, /Bad/);
    });
  });

  describe('invalid tags get 400 TAG_INVALID', () => {
    const badTags = ['-dash', '.dot', 't'.repeat(129), 'a%2Fb', 'with+plus', 'sp%20ace', 'emoji%F0%9F%98%80'];
    for (const tag of badTags) {
      it(`rejects ${JSON.stringify(tag.length > 40 ? `${tag.slice(0, 5)}... (${tag.length} characters)` : tag)} on GET, HEAD, PUT and DELETE`, async () => {
        for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
          const res = await client.fetch(`/v2/repo/manifests/${tag}`, { method, ...(method === 'PUT' ? { body: '{}' } : {}) });
          await assertRegistryError(res, 400, 'TAG_INVALID', method);
        }
      });
    }

    it('accepts a tag of 128 characters starting with an underscore', async () => {
      const tag = `_${'x'.repeat(127)}`;
      const image = await client.pushImage('tags/long', tag);
      const res = await client.fetch(`/v2/tags/long/manifests/${tag}`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
    });
  });

  describe('invalid digests get 400 DIGEST_INVALID', () => {
    const badDigests = [
      'sha256:abc',
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(65)}`,
      `sha512:${'a'.repeat(64)}`,
      `md5:${'a'.repeat(32)}`,
      `sha256:`,
      `:${'a'.repeat(64)}`,
      `sha256:${'g'.repeat(64)}`,
    ];
    for (const digest of badDigests) {
      const label = digest.length > 30 ? `${digest.slice(0, 12)}... (${digest.length} characters)` : digest;
      it(`rejects ${JSON.stringify(label)} wherever a digest goes`, async () => {
        const encoded = encodeURIComponent(digest);
        const cases: Array<{ method: string; path: string; body?: string }> = [
          { method: 'GET', path: `/v2/repo/blobs/${encoded}` },
          { method: 'HEAD', path: `/v2/repo/blobs/${encoded}` },
          { method: 'DELETE', path: `/v2/repo/blobs/${encoded}` },
          { method: 'GET', path: `/v2/repo/manifests/${encoded}` },
          { method: 'HEAD', path: `/v2/repo/manifests/${encoded}` },
          { method: 'DELETE', path: `/v2/repo/manifests/${encoded}` },
          { method: 'PUT', path: `/v2/repo/manifests/${encoded}`, body: '{}' },
          { method: 'GET', path: `/v2/repo/referrers/${encoded}` },
          { method: 'POST', path: `/v2/repo/blobs/uploads/?digest=${encoded}`, body: 'x' },
          { method: 'POST', path: `/v2/repo/blobs/uploads/?mount=${encoded}&from=other` },
        ];
        for (const c of cases) {
          const res = await client.fetch(c.path, { method: c.method, ...(c.body !== undefined ? { body: c.body } : {}) });
          await assertRegistryError(res, 400, 'DIGEST_INVALID', c.method);
        }
        const upload = await client.startUpload('repo');
        const res = await send(`${upload}?digest=${encoded}`, { method: 'PUT' });
        await assertRegistryError(res, 400, 'DIGEST_INVALID');
      });
    }
  });

  it('never answers 500 to garbage in the path or query', async () => {
    const paths = [
      '/v2/%/manifests/latest',
      '/v2/repo/manifests/%E0%A4%A',
      '/v2/repo/blobs/%',
      '/v2/repo/tags/list?n=%',
      '/v2/_catalog?last=%ff&n=1',
      '/v2/repo/referrers/sha256:%00',
      '/v2/repo/blobs/uploads/..%2F..%2Fetc%2Fpasswd',
      '/v2/repo/blobs/uploads/not-a-uuid',
    ];
    for (const path of paths) {
      const res = await client.fetch(path);
      const text = await res.text();
      assert.ok(res.status >= 200 && res.status < 500, `${path} answered ${res.status}: ${text}`);
      if (res.status >= 400) assert.ok(Array.isArray((JSON.parse(text) as { errors: unknown[] }).errors), `${path}: ${text}`);
    }
  });
});
