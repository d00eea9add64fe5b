import { Writable } from 'node:stream';
import type { Digest } from '../../src/registry/names.js';
import type { BlobStore, ByteRange } from '../../src/registry/storage/blob-store.js';

/** What a store sends for a blob, collected as a destination must: chunks copied before their callback runs. */
export async function blobContents(store: BlobStore, digest: Digest, range?: ByteRange): Promise<Buffer> {
  const parts: Buffer[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(Buffer.from(chunk));
      callback();
    },
  });
  await store.send(digest, destination, range);
  return Buffer.concat(parts);
}
