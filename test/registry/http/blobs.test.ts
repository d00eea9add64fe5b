import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertRegistryError, digestOf, randomBlob, RegistryClient, unknownDigest } from '../../helpers/registry-client.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('registry HTTP: blobs', () => {
  let server: TestServer;
  let client: RegistryClient;
  const content = randomBlob(1000);
  const digest = digestOf(content);
  const blobPath = `/v2/blobs/main/blobs/${digest}`;

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
    await client.pushBlob('blobs/main', content);
  });
  after(() => server.close());

  describe('GET and HEAD', () => {
    it('GET returns the content with Docker-Content-Digest, Content-Length and an octet-stream type', async () => {
      const res = await client.fetch(blobPath);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), '1000');
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.equal(res.headers.get('etag'), `"${digest}"`);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content);
    });

    it('HEAD returns the same headers and no body', async () => {
      const res = await client.fetch(blobPath, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), '1000');
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(await res.text(), '');
    });

    it('an unknown blob is 404 BLOB_UNKNOWN on GET and 404 with no body on HEAD', async () => {
      const missing = unknownDigest();
      const error = await assertRegistryError(await client.fetch(`/v2/blobs/main/blobs/${missing}`), 404, 'BLOB_UNKNOWN');
      assert.match(error!.message, new RegExp(missing));
      await assertRegistryError(await client.fetch(`/v2/blobs/main/blobs/${missing}`, { method: 'HEAD' }), 404, 'BLOB_UNKNOWN', 'HEAD');
    });

    it('a blob of an unknown repository is 404 BLOB_UNKNOWN', async () => {
      await assertRegistryError(await client.fetch(`/v2/never/pushed/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('serves an empty blob', async () => {
      const empty = Buffer.alloc(0);
      const d = (await client.pushBlob('blobs/empty', empty)).digest;
      assert.equal(d, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      const res = await client.fetch(`/v2/blobs/empty/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('serves a blob larger than one read buffer intact', async () => {
      const big = randomBlob(3 * 1024 * 1024 + 17);
      const d = (await client.pushBlob('blobs/big', big)).digest;
      const res = await client.fetch(`/v2/blobs/big/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(big.length));
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(digestOf(got), d);
    });
  });

  describe('Range', () => {
    const ranged = async (range: string): Promise<Response> => client.fetch(blobPath, { headers: { Range: range } });

    it('bytes=0-99 is 206 with Content-Range and the first 100 bytes', async () => {
      const res = await ranged('bytes=0-99');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 0-99/1000');
      assert.equal(res.headers.get('content-length'), '100');
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content.subarray(0, 100));
    });

    it('an open-ended range runs to the end', async () => {
      const res = await ranged('bytes=990-');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 990-999/1000');
      assert.equal(res.headers.get('content-length'), '10');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content.subarray(990));
    });

    it('a suffix range serves the last bytes', async () => {
      const res = await ranged('bytes=-5');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 995-999/1000');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content.subarray(995));
    });

    it('a suffix longer than the blob serves all of it as a range', async () => {
      const res = await ranged('bytes=-5000');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 0-999/1000');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content);
    });

    it('an end past the blob is clamped to its last byte', async () => {
      const res = await ranged('bytes=500-100000');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 500-999/1000');
      assert.equal(res.headers.get('content-length'), '500');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content.subarray(500));
    });

    it('a single byte range', async () => {
      const res = await ranged('bytes=7-7');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 7-7/1000');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content.subarray(7, 8));
    });

    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0', 'bytes=10-5', 'bytes=abc']) {
      it(`${range} is 416 with Content-Range: bytes */1000`, async () => {
        const res = await ranged(range);
        const contentRange = res.headers.get('content-range');
        await assertRegistryError(res, 416, 'BLOB_UPLOAD_INVALID');
        assert.equal(contentRange, 'bytes */1000');
      });
    }

    it('several ranges are answered with the whole blob', async () => {
      const res = await ranged('bytes=0-1,5-6');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-range'), null);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content);
    });

    it('a range in a unit other than bytes is ignored', async () => {
      const res = await ranged('items=0-5');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '1000');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), content);
    });

    it('HEAD ignores the range and reports the whole size', async () => {
      const res = await client.fetch(blobPath, { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '1000');
    });
  });

  describe('repository isolation', () => {
    it('a blob pushed to repository A is not readable through repository B', async () => {
      const blob = randomBlob(50);
      const { digest: d } = await client.pushBlob('iso/a', blob);
      assert.equal((await client.fetch(`/v2/iso/a/blobs/${d}`)).status, 200);
      await assertRegistryError(await client.fetch(`/v2/iso/b/blobs/${d}`), 404, 'BLOB_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/iso/b/blobs/${d}`, { method: 'HEAD' }), 404, 'BLOB_UNKNOWN', 'HEAD');
      await assertRegistryError(await client.fetch(`/v2/iso/b/blobs/${d}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
      // Still readable in A: the failed attempts through B changed nothing.
      assert.equal((await client.fetch(`/v2/iso/a/blobs/${d}`)).status, 200);
    });

    it('after a mount into B, B serves it too', async () => {
      const blob = randomBlob(50);
      const { digest: d } = await client.pushBlob('iso/c', blob);
      const mount = await client.fetch(`/v2/iso/d/blobs/uploads/?mount=${d}&from=iso/c`, { method: 'POST' });
      assert.equal(mount.status, 201);
      const res = await client.fetch(`/v2/iso/d/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    });

    it('the same content pushed to two repositories is served by both', async () => {
      const blob = randomBlob(50);
      const { digest: d } = await client.pushBlob('iso/e', blob);
      await client.pushBlob('iso/f', blob);
      assert.equal((await client.fetch(`/v2/iso/e/blobs/${d}`)).status, 200);
      assert.equal((await client.fetch(`/v2/iso/f/blobs/${d}`)).status, 200);
    });
  });

  describe('DELETE', () => {
    it('answers 202, after which the blob is unknown to the repository', async () => {
      const blob = randomBlob(40);
      const { digest: d } = await client.pushBlob('del/a', blob);
      const res = await client.fetch(`/v2/del/a/blobs/${d}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('docker-content-digest'), d);
      assert.equal(res.headers.get('content-length'), '0');
      await assertRegistryError(await client.fetch(`/v2/del/a/blobs/${d}`), 404, 'BLOB_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/del/a/blobs/${d}`, { method: 'HEAD' }), 404, 'BLOB_UNKNOWN', 'HEAD');
    });

    it('deleting twice, or an unknown blob, is 404 BLOB_UNKNOWN', async () => {
      const { digest: d } = await client.pushBlob('del/b', randomBlob(40));
      assert.equal((await client.fetch(`/v2/del/b/blobs/${d}`, { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch(`/v2/del/b/blobs/${d}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/del/b/blobs/${unknownDigest()}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
    });

    it('removes the blob from one repository only', async () => {
      const blob = randomBlob(40);
      const { digest: d } = await client.pushBlob('del/c', blob);
      await client.pushBlob('del/d', blob);
      assert.equal((await client.fetch(`/v2/del/c/blobs/${d}`, { method: 'DELETE' })).status, 202);
      await assertRegistryError(await client.fetch(`/v2/del/c/blobs/${d}`), 404, 'BLOB_UNKNOWN');
      const res = await client.fetch(`/v2/del/d/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    });

    it('a deleted blob can be pushed again', async () => {
      const blob = randomBlob(40);
      const { digest: d } = await client.pushBlob('del/e', blob);
      assert.equal((await client.fetch(`/v2/del/e/blobs/${d}`, { method: 'DELETE' })).status, 202);
      await client.pushBlob('del/e', blob);
      const res = await client.fetch(`/v2/del/e/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    });
  });

  describe('sha512', () => {
    it('a blob pushed by its sha512 digest is served under that digest', async () => {
      const blob = randomBlob(300);
      const { digest: d } = await client.pushBlob('sha/512', blob, 'application/octet-stream', 'sha512');
      assert.match(d, /^sha512:[0-9a-f]{128}$/);
      const res = await client.fetch(`/v2/sha/512/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), d);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
      // The sha256 of the same bytes was never pushed.
      await assertRegistryError(await client.fetch(`/v2/sha/512/blobs/${digestOf(blob)}`), 404, 'BLOB_UNKNOWN');
    });
  });
});
