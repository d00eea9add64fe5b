import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Digest } from '../../../src/registry/names.js';
import type { BlobStore } from '../../../src/registry/storage/blob-store.js';
import { blobContents } from '../../helpers/blob-contents.js';

/** Makes an empty store; `scratch` is a fresh temporary folder a driver may keep its state in. */
export type BlobStoreFactory = (scratch: string) => Promise<BlobStore>;

/**
 * The behaviour every BlobStore driver must have, as distribution's storage driver test suites do it:
 * a driver's test file calls this with a factory, and the same tests run against it.
 */
export function blobStoreSuite(driver: string, make: BlobStoreFactory): void {
  describe(`BlobStore conformance: ${driver}`, () => {
    let scratch: string;
    let store: BlobStore;

    beforeEach(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'anchorage-blobstore-'));
      store = await make(scratch);
    });

    afterEach(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    /** Stores content as a blob through the only door there is: an upload and its commit. */
    async function putBlob(content: Buffer, id = uploadId()): Promise<Digest> {
      const digest = digestOf(content);
      await store.createUpload(id);
      assert.equal(await store.appendUpload(id, 0, chunks(content)), content.length);
      await store.commitUpload(id, digest);
      return digest;
    }

    describe('blobs', () => {
      it('stat is undefined for a digest never stored, and the size once it is', async () => {
        const content = Buffer.from('hello, blob store');
        assert.equal(await store.stat(digestOf(content)), undefined);
        const digest = await putBlob(content);
        assert.equal(await store.stat(digest), content.length);
      });

      it('reads a blob whole', async () => {
        const content = pattern(100_000);
        const digest = await putBlob(content);
        assert.deepEqual(await blobContents(store, digest), content);
      });

      it('reads inclusive byte ranges: the first byte, a middle slice, the last byte, the whole', async () => {
        const content = pattern(10_000);
        const digest = await putBlob(content);
        assert.deepEqual(await blobContents(store, digest, { start: 0, end: 0 }), content.subarray(0, 1));
        assert.deepEqual(await blobContents(store, digest, { start: 1234, end: 5677 }), content.subarray(1234, 5678));
        assert.deepEqual(await blobContents(store, digest, { start: 9_999, end: 9_999 }), content.subarray(9_999));
        assert.deepEqual(await blobContents(store, digest, { start: 0, end: 9_999 }), content);
      });

      it('reads an empty blob', async () => {
        const digest = await putBlob(Buffer.alloc(0));
        assert.equal(await store.stat(digest), 0);
        assert.deepEqual(await blobContents(store, digest), Buffer.alloc(0));
      });

      it('rejects and destroys the destination when sending a blob that is not stored', async () => {
        const destination = new Writable({ write: (_chunk, _encoding, callback) => callback() });
        await assert.rejects(store.send(digestOf(Buffer.from('absent')), destination));
        assert.ok(destination.destroyed);
      });

      it('sends intact to a slow destination: no chunk is reused before its write callback, several sends at once', async () => {
        // Larger than any sensible read piece, with a short last piece; the destination copies each chunk only
        // when it acknowledges it, so a driver that recycled a buffer early would hand it different bytes.
        const contents = [randomBytes(5 * 1024 * 1024 + 123), randomBytes(3 * 1024 * 1024 + 7)];
        const digests = await Promise.all(contents.map((c) => putBlob(c)));
        const received = await Promise.all(digests.map(async (digest) => {
          const parts: Buffer[] = [];
          const destination = new Writable({
            highWaterMark: 0,
            write(chunk: Buffer, _encoding, callback) {
              setTimeout(() => {
                parts.push(Buffer.from(chunk));
                callback();
              }, 2);
            },
          });
          await store.send(digest, destination);
          assert.ok(destination.writableFinished, 'the destination is ended');
          return Buffer.concat(parts);
        }));
        assert.ok(received[0]!.equals(contents[0]!));
        assert.ok(received[1]!.equals(contents[1]!));
      });

      it('a destination closed part-way rejects the send instead of leaving it waiting, and the store goes on', { timeout: 10_000 }, async () => {
        const content = pattern(4 * 1024 * 1024);
        const digest = await putBlob(content);
        let writes = 0;
        const destination = new Writable({
          // Never acknowledges a chunk, as a socket that went away leaves its write pending.
          write(_chunk, _encoding, _callback) {
            if (++writes === 1) setImmediate(() => destination.destroy());
          },
        });
        await assert.rejects(store.send(digest, destination));
        assert.ok((await blobContents(store, digest)).equals(content));
      });

      it('deletes a blob, and deleting one that is not stored is no error', async () => {
        const digest = await putBlob(Buffer.from('to be deleted'));
        await store.delete(digest);
        assert.equal(await store.stat(digest), undefined);
        await assert.rejects(blobContents(store, digest));
        await store.delete(digest);
        await store.delete(digestOf(Buffer.from('never stored')));
      });

      it('keeps blobs apart: deleting one leaves the others', async () => {
        const a = await putBlob(Buffer.from('blob a'));
        const b = await putBlob(Buffer.from('blob b'));
        await store.delete(a);
        assert.equal(await store.stat(a), undefined);
        assert.deepEqual(await blobContents(store, b), Buffer.from('blob b'));
      });

      it('stores sha512 digests as well as sha256', async () => {
        const content = Buffer.from('sha512 content');
        const digest: Digest = `sha512:${createHash('sha512').update(content).digest('hex')}`;
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(content));
        await store.commitUpload(id, digest);
        assert.deepEqual(await blobContents(store, digest), content);
        assert.equal(await store.stat(digestOf(content)), undefined);
      });
    });

    describe('uploads', () => {
      it('a new upload is empty; an unknown one has no size', async () => {
        const id = uploadId();
        assert.equal(await store.uploadSize(id), undefined);
        await store.createUpload(id);
        assert.equal(await store.uploadSize(id), 0);
      });

      it('appends at the end, chunk after chunk, and reports the bytes each append wrote', async () => {
        const id = uploadId();
        await store.createUpload(id);
        assert.equal(await store.appendUpload(id, 0, chunks(Buffer.from('hello, '), Buffer.from('wor'))), 10);
        assert.equal(await store.appendUpload(id, 10, chunks(Buffer.from('ld'))), 2);
        assert.equal(await store.uploadSize(id), 12);
        assert.deepEqual(await collect(store.readUpload(id, 12)), Buffer.from('hello, world'));
      });

      it('an append from an offset drops whatever was stored past it', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('abcdefghij')));
        assert.equal(await store.appendUpload(id, 4, chunks(Buffer.from('XY'))), 2);
        assert.equal(await store.uploadSize(id), 6);
        assert.deepEqual(await collect(store.readUpload(id, 6)), Buffer.from('abcdXY'));
      });

      it('an empty append from an offset cuts the upload back to it', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('abcdefghij')));
        assert.equal(await store.appendUpload(id, 3, chunks()), 0);
        assert.equal(await store.uploadSize(id), 3);
        assert.deepEqual(await collect(store.readUpload(id, 3)), Buffer.from('abc'));
      });

      it('a source that fails mid-way cuts the upload back to the offset and rejects with its error', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('hello')));
        const boom = new Error('client went away');
        await assert.rejects(store.appendUpload(id, 5, failing([pattern(300_000), Buffer.from('more')], boom)), boom);
        assert.equal(await store.uploadSize(id), 5);
        assert.deepEqual(await collect(store.readUpload(id, 5)), Buffer.from('hello'));
        // The upload is still usable: the client retries from where it stands.
        assert.equal(await store.appendUpload(id, 5, chunks(Buffer.from(' again'))), 6);
        assert.deepEqual(await collect(store.readUpload(id, 11)), Buffer.from('hello again'));
      });

      it('a source that fails mid-way, from an offset inside the upload, cuts it back to that offset', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('abcdefghij')));
        await assert.rejects(store.appendUpload(id, 2, failing([Buffer.from('XYZ')], new Error('reset'))), /reset/);
        assert.equal(await store.uploadSize(id), 2);
        assert.deepEqual(await collect(store.readUpload(id, 2)), Buffer.from('ab'));
      });

      it('a source that fails after megabytes, with writes still going on, cuts the upload back to the offset', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('kept')));
        const parts = Array.from({ length: 160 }, () => randomBytes(64 * 1024));
        await assert.rejects(store.appendUpload(id, 4, failing(parts, new Error('reset'))), /reset/);
        assert.equal(await store.uploadSize(id), 4);
        assert.deepEqual(await collect(store.readUpload(id, 4)), Buffer.from('kept'));
      });

      it('streams megabytes in many small chunks without losing or reordering any', async () => {
        const id = uploadId();
        // Random, so that pieces written out of place cannot match by a pattern's period.
        const content = randomBytes(9 * 1024 * 1024 + 17);
        await store.createUpload(id);
        const pieces: Buffer[] = [];
        for (let at = 0; at < content.length; at += 16_384) pieces.push(content.subarray(at, at + 16_384));
        assert.equal(await store.appendUpload(id, 0, chunks(...pieces)), content.length);
        assert.equal(digestOf(await collect(store.readUpload(id, content.length))), digestOf(content));
      });

      it('readUpload streams the first `length` bytes only, and nothing for a length of 0', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('0123456789')));
        assert.deepEqual(await collect(store.readUpload(id, 4)), Buffer.from('0123'));
        assert.deepEqual(await collect(store.readUpload(id, 10)), Buffer.from('0123456789'));
        assert.deepEqual(await collect(store.readUpload(id, 0)), Buffer.alloc(0));
      });

      it('keeps concurrent uploads apart', async () => {
        const [a, b] = [uploadId(), uploadId()];
        await Promise.all([store.createUpload(a), store.createUpload(b)]);
        await Promise.all([
          store.appendUpload(a, 0, chunks(Buffer.alloc(200_000, 'a'))),
          store.appendUpload(b, 0, chunks(Buffer.alloc(100_000, 'b'))),
        ]);
        assert.equal(await store.uploadSize(a), 200_000);
        assert.equal(await store.uploadSize(b), 100_000);
        assert.deepEqual(await collect(store.readUpload(b, 100_000)), Buffer.alloc(100_000, 'b'));
      });

      it('commitUpload: the blob appears only with the commit, and the upload is gone after it', async () => {
        const id = uploadId();
        const content = pattern(50_000);
        const digest = digestOf(content);
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(content.subarray(0, 20_000)));
        assert.equal(await store.stat(digest), undefined);
        await store.appendUpload(id, 20_000, chunks(content.subarray(20_000)));
        assert.equal(await store.stat(digest), undefined, 'a complete upload is not yet a blob');
        await assert.rejects(blobContents(store, digest));
        await store.commitUpload(id, digest);
        assert.equal(await store.stat(digest), content.length);
        assert.deepEqual(await blobContents(store, digest), content);
        assert.equal(await store.uploadSize(id), undefined);
        assert.equal((await ids(store)).includes(id), false);
      });

      it('commitUpload of content already stored replaces the copy there', async () => {
        const content = Buffer.from('same content twice');
        const digest = await putBlob(content);
        await putBlob(content);
        assert.deepEqual(await blobContents(store, digest), content);
      });

      it('commitUpload of an unknown upload rejects and stores nothing', async () => {
        const digest = digestOf(Buffer.from('nothing'));
        await assert.rejects(store.commitUpload(uploadId(), digest));
        assert.equal(await store.stat(digest), undefined);
      });

      it('listUploads lists the sessions with the time of their last write', async () => {
        const before = Date.now() - 2_000;
        const [a, b] = [uploadId(), uploadId()];
        await store.createUpload(a);
        await store.createUpload(b);
        await store.appendUpload(b, 0, chunks(Buffer.from('data')));
        const listed = new Map<string, Date>();
        for await (const u of store.listUploads()) listed.set(u.id, u.modified);
        assert.deepEqual([...listed.keys()].sort(), [a, b].sort());
        for (const modified of listed.values()) {
          assert.ok(modified instanceof Date);
          assert.ok(modified.getTime() >= before && modified.getTime() <= Date.now() + 2_000, `modified ${modified.toISOString()}`);
        }
      });

      it('listUploads does not list finished blobs', async () => {
        await putBlob(Buffer.from('a blob'));
        assert.deepEqual(await ids(store), []);
      });

      it('deleteUpload removes the session and its bytes; deleting an unknown one is no error', async () => {
        const id = uploadId();
        await store.createUpload(id);
        await store.appendUpload(id, 0, chunks(Buffer.from('discard me')));
        await store.deleteUpload(id);
        assert.equal(await store.uploadSize(id), undefined);
        assert.deepEqual(await ids(store), []);
        await store.deleteUpload(id);
        await store.deleteUpload(uploadId());
      });
    });
  });
}

function uploadId(): string {
  return crypto.randomUUID();
}

function digestOf(content: Buffer): Digest {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** Bytes that differ from position to position, so that a misplaced chunk shows. */
function pattern(length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

async function* chunks(...parts: Buffer[]): AsyncIterable<Buffer> {
  for (const p of parts) yield p;
}

async function* failing(parts: Buffer[], err: Error): AsyncIterable<Buffer> {
  for (const p of parts) yield p;
  throw err;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function ids(store: BlobStore): Promise<string[]> {
  const found: string[] = [];
  for await (const u of store.listUploads()) found.push(u.id);
  return found;
}
