import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertRegistryError, digestOf, randomBlob, RegistryClient, send, unknownDigest } from '../../helpers/registry-client.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A request body sent with chunked transfer encoding, so without Content-Length. */
function streamed(parts: Buffer[]): { body: ReadableStream<Uint8Array>; duplex: 'half' } {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(new Uint8Array(p));
      controller.close();
    },
  });
  return { body, duplex: 'half' };
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

describe('registry HTTP: blob uploads', () => {
  let server: TestServer;
  let client: RegistryClient;

  before(async () => {
    server = await startTestServer();
    client = new RegistryClient(server.registryUrl);
  });
  after(() => server.close());

  const assertBlob = async (repository: string, digest: string, content: Buffer): Promise<void> => {
    const res = await client.fetch(`/v2/${repository}/blobs/${digest}`);
    assert.equal(res.status, 200, `blob ${digest} in ${repository}`);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), content);
  };

  describe('monolithic POST ?digest=', () => {
    it('answers 201 with Location and Docker-Content-Digest, and the blob is readable', async () => {
      const content = randomBlob(200);
      const digest = digestOf(content);
      const res = await client.fetch(`/v2/up/mono/blobs/uploads/?digest=${digest}`, {
        method: 'POST', body: content, headers: { 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/up/mono/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), '0');
      await assertBlob('up/mono', digest, content);
    });

    it('accepts a body without Content-Length (chunked)', async () => {
      const parts = [randomBlob(100), randomBlob(300)];
      const content = Buffer.concat(parts);
      const digest = digestOf(content);
      const res = await client.fetch(`/v2/up/mono/blobs/uploads/?digest=${digest}`, { method: 'POST', ...streamed(parts) });
      assert.equal(res.status, 201, await res.text());
      await assertBlob('up/mono', digest, content);
    });

    it('pushing the same content twice is 201 both times', async () => {
      const content = randomBlob(64);
      const { digest } = await client.pushBlob('up/mono', content);
      await client.pushBlob('up/mono', content);
      await assertBlob('up/mono', digest, content);
    });

    it('a digest mismatch is 400 DIGEST_INVALID and leaves nothing behind', async () => {
      const content = randomBlob(100);
      const claimed = digestOf(randomBlob(100));
      const res = await client.fetch(`/v2/up/mono/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: content });
      const error = await assertRegistryError(res, 400, 'DIGEST_INVALID');
      assert.match(error!.message, new RegExp(digestOf(content)));
      await assertRegistryError(await client.fetch(`/v2/up/mono/blobs/${claimed}`), 404, 'BLOB_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/up/mono/blobs/${digestOf(content)}`), 404, 'BLOB_UNKNOWN');
    });
  });

  describe('POST then PUT', () => {
    it('POST opens a session: 202 with Location, Range 0-0 and Docker-Upload-UUID', async () => {
      const res = await client.fetch('/v2/up/session/blobs/uploads/', { method: 'POST' });
      assert.equal(res.status, 202);
      const uuid = res.headers.get('docker-upload-uuid') ?? '';
      assert.match(uuid, UUID);
      assert.equal(res.headers.get('location'), `/v2/up/session/blobs/uploads/${uuid}`);
      assert.equal(res.headers.get('range'), '0-0');
      assert.equal(res.headers.get('content-length'), '0');
    });

    it('POST without the trailing slash opens a session too', async () => {
      const res = await client.fetch('/v2/up/session/blobs/uploads', { method: 'POST' });
      assert.equal(res.status, 202);
      assert.match(res.headers.get('location') ?? '', /^\/v2\/up\/session\/blobs\/uploads\/[0-9a-f-]{36}$/);
    });

    it('PUT with the whole body and ?digest= completes it: 201 with Location and Docker-Content-Digest', async () => {
      const content = randomBlob(500);
      const digest = digestOf(content);
      const location = await client.startUpload('up/session');
      const res = await send(withDigest(location, digest), { method: 'PUT', body: content });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal(res.headers.get('location'), `/v2/up/session/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await assertBlob('up/session', digest, content);
      // The session is over.
      await assertRegistryError(await send(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('PUT without ?digest= is 400 DIGEST_INVALID and the session stays usable', async () => {
      const content = randomBlob(50);
      const location = await client.startUpload('up/session');
      await assertRegistryError(await send(location, { method: 'PUT', body: content }), 400, 'DIGEST_INVALID');
      const res = await send(withDigest(location, digestOf(content)), { method: 'PUT', body: content });
      assert.equal(res.status, 201);
      await assertBlob('up/session', digestOf(content), content);
    });

    it('a digest mismatch on PUT is 400 DIGEST_INVALID: no blob, and the upload is gone', async () => {
      const content = randomBlob(300);
      const claimed = unknownDigest();
      const location = await client.startUpload('up/session');
      const patch = await send(location, { method: 'PATCH', body: content.subarray(0, 100), headers: { 'Content-Range': '0-99' } });
      assert.equal(patch.status, 202);
      const res = await send(withDigest(location, claimed), { method: 'PUT', body: content.subarray(100), headers: { 'Content-Range': '100-299' } });
      const error = await assertRegistryError(res, 400, 'DIGEST_INVALID');
      assert.match(error!.message, new RegExp(digestOf(content)));
      await assertRegistryError(await client.fetch(`/v2/up/session/blobs/${claimed}`), 404, 'BLOB_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/up/session/blobs/${digestOf(content)}`), 404, 'BLOB_UNKNOWN');
      await assertRegistryError(await send(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await send(location, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('an empty upload completes as the empty blob', async () => {
      const location = await client.startUpload('up/session');
      const digest = digestOf(Buffer.alloc(0));
      const res = await send(withDigest(location, digest), { method: 'PUT' });
      assert.equal(res.status, 201);
      await assertBlob('up/session', digest, Buffer.alloc(0));
    });

    it('an upload of one repository is unknown to another', async () => {
      const location = await client.startUpload('up/session');
      const id = new URL(location).pathname.split('/').pop()!;
      await assertRegistryError(await client.fetch(`/v2/up/other/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/up/other/blobs/uploads/${id}`, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/up/other/blobs/uploads/${id}?digest=${digestOf('x')}`, { method: 'PUT', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/up/other/blobs/uploads/${id}`, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal((await send(location)).status, 204);
    });

    it('an unknown or malformed upload id is 404 BLOB_UPLOAD_UNKNOWN', async () => {
      for (const id of ['0f2a5c52-2d5b-4a57-9d6c-2cf1a0a6b4f1', 'nope', 'ABCDEF']) {
        await assertRegistryError(await client.fetch(`/v2/up/session/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
        await assertRegistryError(await client.fetch(`/v2/up/session/blobs/uploads/${id}`, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        await assertRegistryError(await client.fetch(`/v2/up/session/blobs/uploads/${id}?digest=${digestOf('x')}`, { method: 'PUT', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        await assertRegistryError(await client.fetch(`/v2/up/session/blobs/uploads/${id}`, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      }
    });
  });

  describe('chunked PATCH with Content-Range', () => {
    it('appends chunks in order: each 202 with Location and Range; GET on the upload is 204', async () => {
      const content = randomBlob(1000);
      const digest = digestOf(content);
      const location = await client.startUpload('up/chunked');
      const path = new URL(location).pathname;
      const id = path.split('/').pop()!;
      const chunks: Array<[number, number]> = [[0, 299], [300, 599], [600, 999]];
      for (const [start, end] of chunks) {
        const res = await send(location, {
          method: 'PATCH', body: content.subarray(start, end + 1),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end}` },
        });
        assert.equal(res.status, 202, await res.clone().text());
        assert.equal(res.headers.get('location'), path);
        assert.equal(res.headers.get('range'), `0-${end}`);
        assert.equal(res.headers.get('docker-upload-uuid'), id);
        assert.equal(res.headers.get('content-length'), '0');

        const status = await send(location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('location'), path);
        assert.equal(status.headers.get('range'), `0-${end}`);
        assert.equal(status.headers.get('docker-upload-uuid'), id);
        assert.equal(await status.text(), '');
      }
      const res = await send(withDigest(location, digest), { method: 'PUT' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await assertBlob('up/chunked', digest, content);
    });

    it('GET on a fresh upload is 204 with Range 0-0', async () => {
      const location = await client.startUpload('up/chunked');
      const res = await send(location);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('range'), '0-0');
      assert.equal(res.headers.get('location'), new URL(location).pathname);
    });

    it('accepts the bytes start-end/total form of Content-Range', async () => {
      const content = randomBlob(20);
      const location = await client.startUpload('up/chunked');
      const res = await send(location, { method: 'PATCH', body: content, headers: { 'Content-Range': 'bytes 0-19/20' } });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), '0-19');
    });

    it('an out-of-order chunk is 416 and changes nothing', async () => {
      const content = randomBlob(300);
      const location = await client.startUpload('up/chunked');
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(0, 100), headers: { 'Content-Range': '0-99' } })).status, 202);
      const skip = await send(location, { method: 'PATCH', body: content.subarray(200, 300), headers: { 'Content-Range': '200-299' } });
      await assertRegistryError(skip, 416, 'BLOB_UPLOAD_INVALID');
      const status = await send(location);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-99');
      // The upload continues where it was.
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(100), headers: { 'Content-Range': '100-299' } })).status, 202);
      const done = await send(withDigest(location, digestOf(content)), { method: 'PUT' });
      assert.equal(done.status, 201);
      await assertBlob('up/chunked', digestOf(content), content);
    });

    it('a first chunk that does not start at 0 is 416', async () => {
      const location = await client.startUpload('up/chunked');
      const res = await send(location, { method: 'PATCH', body: randomBlob(10), headers: { 'Content-Range': '5-14' } });
      await assertRegistryError(res, 416, 'BLOB_UPLOAD_INVALID');
      assert.equal((await send(location)).headers.get('range'), '0-0');
    });

    it('a repeated chunk is 416 and changes nothing', async () => {
      const content = randomBlob(200);
      const location = await client.startUpload('up/chunked');
      const first = content.subarray(0, 100);
      assert.equal((await send(location, { method: 'PATCH', body: first, headers: { 'Content-Range': '0-99' } })).status, 202);
      await assertRegistryError(await send(location, { method: 'PATCH', body: first, headers: { 'Content-Range': '0-99' } }), 416, 'BLOB_UPLOAD_INVALID');
      // An overlapping chunk is as wrong as a repeated one.
      await assertRegistryError(await send(location, { method: 'PATCH', body: content.subarray(50, 150), headers: { 'Content-Range': '50-149' } }), 416, 'BLOB_UPLOAD_INVALID');
      assert.equal((await send(location)).headers.get('range'), '0-99');
      const last = await send(withDigest(location, digestOf(content)), { method: 'PUT', body: content.subarray(100), headers: { 'Content-Range': '100-199' } });
      assert.equal(last.status, 201);
      await assertBlob('up/chunked', digestOf(content), content);
    });

    it('a PUT whose final chunk is out of order is 416', async () => {
      const content = randomBlob(200);
      const location = await client.startUpload('up/chunked');
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(0, 100), headers: { 'Content-Range': '0-99' } })).status, 202);
      const res = await send(withDigest(location, digestOf(content)), { method: 'PUT', body: content.subarray(150), headers: { 'Content-Range': '150-199' } });
      await assertRegistryError(res, 416, 'BLOB_UPLOAD_INVALID');
      assert.equal((await send(location)).headers.get('range'), '0-99');
    });

    for (const bad of ['abc', '10', '-5', '5-', '9-3', 'bytes=0-9']) {
      it(`a malformed Content-Range ${JSON.stringify(bad)} is 416 and changes nothing`, async () => {
        const location = await client.startUpload('up/chunked');
        const res = await send(location, { method: 'PATCH', body: randomBlob(10), headers: { 'Content-Range': bad } });
        await assertRegistryError(res, 416, 'BLOB_UPLOAD_INVALID');
        assert.equal((await send(location)).headers.get('range'), '0-0');
      });
    }

    it('a Content-Range that disagrees with Content-Length is 400 SIZE_INVALID', async () => {
      const location = await client.startUpload('up/chunked');
      const res = await send(location, { method: 'PATCH', body: randomBlob(10), headers: { 'Content-Range': '0-19' } });
      await assertRegistryError(res, 400, 'SIZE_INVALID');
      assert.equal((await send(location)).headers.get('range'), '0-0');
    });

    it('a chunk shorter than its Content-Range, sent without Content-Length, is 400 SIZE_INVALID', async () => {
      const location = await client.startUpload('up/chunked');
      const res = await send(location, { method: 'PATCH', headers: { 'Content-Range': '0-99' }, ...streamed([randomBlob(40)]) });
      await assertRegistryError(res, 400, 'SIZE_INVALID');
      assert.equal((await send(location)).headers.get('range'), '0-0');
    });
  });

  describe('streamed PATCH without Content-Range', () => {
    it('appends a chunked-encoding body, then more; PUT completes', async () => {
      const parts = [randomBlob(1000), randomBlob(2000), randomBlob(500)];
      const content = Buffer.concat(parts);
      const location = await client.startUpload('up/stream');
      const first = await send(location, { method: 'PATCH', ...streamed(parts.slice(0, 2)) });
      assert.equal(first.status, 202, await first.clone().text());
      assert.equal(first.headers.get('range'), '0-2999');
      const second = await send(location, { method: 'PATCH', body: parts[2] });
      assert.equal(second.status, 202);
      assert.equal(second.headers.get('range'), '0-3499');
      const status = await send(location);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-3499');
      const done = await send(withDigest(location, digestOf(content)), { method: 'PUT' });
      assert.equal(done.status, 201);
      await assertBlob('up/stream', digestOf(content), content);
    });

    it('a streamed PUT carries the whole blob', async () => {
      const parts = [randomBlob(700), randomBlob(300)];
      const content = Buffer.concat(parts);
      const location = await client.startUpload('up/stream');
      const done = await send(withDigest(location, digestOf(content)), { method: 'PUT', ...streamed(parts) });
      assert.equal(done.status, 201, await done.clone().text());
      await assertBlob('up/stream', digestOf(content), content);
    });

    it('a ranged chunk may follow a streamed one', async () => {
      const content = randomBlob(400);
      const location = await client.startUpload('up/stream');
      assert.equal((await send(location, { method: 'PATCH', ...streamed([content.subarray(0, 150)]) })).status, 202);
      const res = await send(location, { method: 'PATCH', body: content.subarray(150), headers: { 'Content-Range': '150-399' } });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), '0-399');
      assert.equal((await send(withDigest(location, digestOf(content)), { method: 'PUT' })).status, 201);
      await assertBlob('up/stream', digestOf(content), content);
    });
  });

  describe('overlong chunks, concurrent writers and aborted requests', () => {
    it('a streamed chunk longer than its Content-Range is 400 SIZE_INVALID and changes nothing', async () => {
      const location = await client.startUpload('up/robust');
      const res = await send(location, { method: 'PATCH', headers: { 'Content-Range': '0-9' }, ...streamed([randomBlob(40)]) });
      await assertRegistryError(res, 400, 'SIZE_INVALID');
      assert.equal((await send(location)).headers.get('range'), '0-0');
    });

    it('a second writer while a PATCH is still streaming is 416; the first one completes', async () => {
      const content = randomBlob(300);
      const location = await client.startUpload('up/robust');
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start(c) { controller = c; c.enqueue(new Uint8Array(content.subarray(0, 100))); } });
      const first = send(location, { method: 'PATCH', body, duplex: 'half' });
      // An out-of-order chunk is refused without writing anything: it tells when the first request holds the upload.
      let message = '';
      for (let i = 0; i < 100 && !/another request/.test(message); i++) {
        const probe = await send(location, { method: 'PATCH', body: 'x', headers: { 'Content-Range': '5000-5000' } });
        message = (await assertRegistryError(probe, 416, 'BLOB_UPLOAD_INVALID'))!.message;
      }
      assert.match(message, /another request/);
      const second = await send(location, { method: 'PATCH', body: content.subarray(100, 200) });
      await assertRegistryError(second, 416, 'BLOB_UPLOAD_INVALID');
      controller.enqueue(new Uint8Array(content.subarray(100)));
      controller.close();
      const done = await first;
      assert.equal(done.status, 202);
      assert.equal(done.headers.get('range'), '0-299');
      assert.equal((await send(withDigest(location, digestOf(content)), { method: 'PUT' })).status, 201);
      await assertBlob('up/robust', digestOf(content), content);
    });

    it('a client that hangs up mid-PATCH leaves the upload where it was, and the upload continues', async () => {
      const { request } = await import('node:http');
      const content = randomBlob(300);
      const location = await client.startUpload('up/robust');
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(0, 100), headers: { 'Content-Range': '0-99' } })).status, 202);
      await new Promise<void>((resolve) => {
        const { username, password } = server.credentials;
        const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
        const req = request(location, { method: 'PATCH', headers: { 'Transfer-Encoding': 'chunked', Authorization: authorization } });
        req.on('error', () => resolve());
        req.write(randomBlob(50), () => setTimeout(() => req.destroy(), 100));
      });
      // The server notices the hang-up asynchronously; until then the upload is still being written.
      let message = '';
      for (let i = 0; i < 100; i++) {
        const probe = await send(location, { method: 'PATCH', body: 'x', headers: { 'Content-Range': '5000-5000' } });
        message = (await assertRegistryError(probe, 416, 'BLOB_UPLOAD_INVALID'))!.message;
        if (!/another request/.test(message)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(message, /upload holds 100 bytes/);
      assert.equal((await send(location)).headers.get('range'), '0-99');
      const next = await send(location, { method: 'PATCH', body: content.subarray(100), headers: { 'Content-Range': '100-299' } });
      assert.equal(next.status, 202, await next.clone().text());
      assert.equal((await send(withDigest(location, digestOf(content)), { method: 'PUT' })).status, 201);
      await assertBlob('up/robust', digestOf(content), content);
    });
  });

  describe('DELETE cancels', () => {
    it('answers 204; the upload is then 404 BLOB_UPLOAD_UNKNOWN everywhere', async () => {
      const content = randomBlob(100);
      const location = await client.startUpload('up/cancel');
      assert.equal((await send(location, { method: 'PATCH', body: content })).status, 202);
      const res = await send(location, { method: 'DELETE' });
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      await assertRegistryError(await send(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await send(location, { method: 'PATCH', body: content }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await send(withDigest(location, digestOf(content)), { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await send(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertRegistryError(await client.fetch(`/v2/up/cancel/blobs/${digestOf(content)}`), 404, 'BLOB_UNKNOWN');
    });

    it('stops a PATCH that is still streaming (a stalled client) and cancels: 204, and the writer gets 404', async () => {
      const location = await client.startUpload('up/cancel');
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start(c) { controller = c; c.enqueue(new Uint8Array(randomBlob(100))); } });
      const stalled = send(location, { method: 'PATCH', body, duplex: 'half' });
      let message = '';
      for (let i = 0; i < 100 && !/another request/.test(message); i++) {
        const probe = await send(location, { method: 'PATCH', body: 'x', headers: { 'Content-Range': '5000-5000' } });
        message = (await assertRegistryError(probe, 416, 'BLOB_UPLOAD_INVALID'))!.message;
      }
      assert.match(message, /another request/, 'the first PATCH holds the upload');
      const cancelled = await send(location, { method: 'DELETE' });
      assert.equal(cancelled.status, 204);
      const error = await assertRegistryError(await stalled, 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.match(error!.message, /cancelled while this request was writing/, 'the stalled writer learns why');
      controller.error(new Error('the test is done with this body'));
      await assertRegistryError(await send(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  });

  describe('resumable across a restart', () => {
    it('an upload begun before a restart continues after it, on the same port', async () => {
      const own = await startTestServer();
      const ownClient = new RegistryClient(own.registryUrl);
      const content = randomBlob(3000);
      const location = await ownClient.startUpload('up/resume');
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(0, 1200), headers: { 'Content-Range': '0-1199' } })).status, 202);
      await own.close({ keepData: true });

      const again = await startTestServer({ dataDir: own.dataDir });
      try {
        assert.equal(again.registryUrl, own.registryUrl);
        const status = await send(location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), '0-1199');
        await assertRegistryError(await send(location, { method: 'PATCH', body: content.subarray(0, 1200), headers: { 'Content-Range': '0-1199' } }), 416, 'BLOB_UPLOAD_INVALID');
        const next = await send(location, { method: 'PATCH', body: content.subarray(1200, 2000), headers: { 'Content-Range': '1200-1999' } });
        assert.equal(next.status, 202);
        assert.equal(next.headers.get('range'), '0-1999');
        const done = await send(withDigest(location, digestOf(content)), { method: 'PUT', body: content.subarray(2000), headers: { 'Content-Range': '2000-2999' } });
        assert.equal(done.status, 201, await done.clone().text());
        const blob = await send(new URL(`/v2/up/resume/blobs/${digestOf(content)}`, again.registryUrl));
        assert.equal(blob.status, 200);
        assert.deepEqual(Buffer.from(await blob.arrayBuffer()), content);
      } finally {
        await again.close();
      }
    });

    it('a sha512 upload begun before a restart completes after it', async () => {
      const own = await startTestServer();
      const content = randomBlob(500);
      const location = await new RegistryClient(own.registryUrl).startUpload('up/resume');
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(0, 200) })).status, 202);
      await own.close({ keepData: true });
      const again = await startTestServer({ dataDir: own.dataDir });
      try {
        const digest = digestOf(content, 'sha512');
        const done = await send(withDigest(location, digest), { method: 'PUT', body: content.subarray(200) });
        assert.equal(done.status, 201);
        const blob = await send(new URL(`/v2/up/resume/blobs/${digest}`, again.registryUrl));
        assert.deepEqual(Buffer.from(await blob.arrayBuffer()), content);
      } finally {
        await again.close();
      }
    });
  });

  describe('cross-repository mount', () => {
    it('?mount=&from= is 201 with Location and Docker-Content-Digest when the source holds the blob', async () => {
      const content = randomBlob(100);
      const { digest } = await client.pushBlob('mount/src', content);
      const res = await client.fetch(`/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`, { method: 'POST' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/mount/dst/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await assertBlob('mount/dst', digest, content);
    });

    it('is 202 with an upload session when the source does not hold the blob', async () => {
      const content = randomBlob(100);
      const { digest } = await client.pushBlob('mount/elsewhere', content);
      const res = await client.fetch(`/v2/mount/dst2/blobs/uploads/?mount=${digest}&from=mount/src-without`, { method: 'POST' });
      assert.equal(res.status, 202);
      const location = res.headers.get('location') ?? '';
      assert.match(location, /^\/v2\/mount\/dst2\/blobs\/uploads\/[0-9a-f-]{36}$/);
      assert.equal(res.headers.get('range'), '0-0');
      await assertRegistryError(await client.fetch(`/v2/mount/dst2/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
      // The session works as any other.
      const done = await send(withDigest(client.url(location), digest), { method: 'PUT', body: content });
      assert.equal(done.status, 201);
      await assertBlob('mount/dst2', digest, content);
    });

    it('is 202 when the blob is nowhere', async () => {
      const digest = unknownDigest();
      const res = await client.fetch(`/v2/mount/dst3/blobs/uploads/?mount=${digest}&from=mount/src`, { method: 'POST' });
      assert.equal(res.status, 202);
      assert.ok(res.headers.get('location'));
      await assertRegistryError(await client.fetch(`/v2/mount/dst3/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('without from, mounts a blob any repository of the registry holds (automatic mount)', async () => {
      const content = randomBlob(100);
      const { digest } = await client.pushBlob('mount/auto-src', content);
      const res = await client.fetch(`/v2/mount/auto-dst/blobs/uploads/?mount=${digest}`, { method: 'POST' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await assertBlob('mount/auto-dst', digest, content);
    });

    it('without from, is 202 when no repository holds the blob', async () => {
      const res = await client.fetch(`/v2/mount/auto-dst/blobs/uploads/?mount=${unknownDigest()}`, { method: 'POST' });
      assert.equal(res.status, 202);
      assert.match(res.headers.get('docker-upload-uuid') ?? '', UUID);
    });

    it('a blob deleted from the source can no longer be mounted from it', async () => {
      const { digest } = await client.pushBlob('mount/gone', randomBlob(100));
      assert.equal((await client.fetch(`/v2/mount/gone/blobs/${digest}`, { method: 'DELETE' })).status, 202);
      const res = await client.fetch(`/v2/mount/dst4/blobs/uploads/?mount=${digest}&from=mount/gone`, { method: 'POST' });
      assert.equal(res.status, 202);
      await assertRegistryError(await client.fetch(`/v2/mount/dst4/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('an invalid from is 400 NAME_INVALID', async () => {
      const { digest } = await client.pushBlob('mount/src', randomBlob(10));
      await assertRegistryError(await client.fetch(`/v2/mount/dst/blobs/uploads/?mount=${digest}&from=Not_Valid`, { method: 'POST' }), 400, 'NAME_INVALID');
    });

    it('mount with sha512 digests', async () => {
      const content = randomBlob(100);
      const { digest } = await client.pushBlob('mount/src512', content, 'application/octet-stream', 'sha512');
      const res = await client.fetch(`/v2/mount/dst512/blobs/uploads/?mount=${digest}&from=mount/src512`, { method: 'POST' });
      assert.equal(res.status, 201);
      await assertBlob('mount/dst512', digest, content);
    });
  });

  describe('sha512', () => {
    it('a chunked upload completes with a sha512 digest', async () => {
      const content = randomBlob(2000);
      const digest = digestOf(content, 'sha512');
      const location = await client.startUpload('up/sha512');
      assert.equal((await send(location, { method: 'PATCH', body: content.subarray(0, 1000), headers: { 'Content-Range': '0-999' } })).status, 202);
      const done = await send(withDigest(location, digest), { method: 'PUT', body: content.subarray(1000), headers: { 'Content-Range': '1000-1999' } });
      assert.equal(done.status, 201);
      assert.equal(done.headers.get('docker-content-digest'), digest);
      await assertBlob('up/sha512', digest, content);
    });

    it('a sha512 mismatch is 400 DIGEST_INVALID', async () => {
      const content = randomBlob(100);
      const claimed = unknownDigest('sha512');
      const res = await client.fetch(`/v2/up/sha512/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: content });
      await assertRegistryError(res, 400, 'DIGEST_INVALID');
      await assertRegistryError(await client.fetch(`/v2/up/sha512/blobs/${claimed}`), 404, 'BLOB_UNKNOWN');
    });
  });
});
