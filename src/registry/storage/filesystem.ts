import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, opendir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../names.js';
import type { BlobStore, ByteRange } from './blob-store.js';

/**
 * Blobs as content-addressed files on the local disk.
 *
 *   <root>/blobs/<algorithm>/<first two hex>/<hex>   finished blobs
 *   <root>/uploads/<id>                               upload sessions, appended in place
 *
 * Uploads live on the same filesystem as blobs, so a commit is an fsync and an atomic rename.
 */
export class FilesystemBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;

  constructor(root: string) {
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
  }

  async init(): Promise<this> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
    return this;
  }

  async stat(digest: Digest): Promise<number | undefined> {
    return sizeOf(this.blobPath(digest));
  }

  read(digest: Digest, range?: ByteRange): Readable {
    return createReadStream(this.blobPath(digest), { ...(range ?? {}), highWaterMark: 1024 * 1024 });
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async createUpload(id: string): Promise<void> {
    await (await open(this.uploadPath(id), 'wx')).close();
  }

  async appendUpload(id: string, offset: number, source: AsyncIterable<Buffer>): Promise<number> {
    const path = this.uploadPath(id);
    await truncate(path, offset);
    const out = createWriteStream(path, { flags: 'r+', start: offset, highWaterMark: 1024 * 1024 });
    let written = 0;
    try {
      await pipeline(source, async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          written += chunk.length;
          yield chunk;
        }
      }, out);
    } catch (err) {
      await truncate(path, offset).catch(() => undefined);
      throw err;
    }
    return written;
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return sizeOf(this.uploadPath(id));
  }

  readUpload(id: string, length: number): Readable {
    // A read stream's `end` is inclusive, so it cannot express zero bytes.
    if (length === 0) return Readable.from([]);
    return createReadStream(this.uploadPath(id), { start: 0, end: length - 1, highWaterMark: 1024 * 1024 });
  }

  async commitUpload(id: string, digest: Digest): Promise<void> {
    const from = this.uploadPath(id);
    const handle = await open(from, 'r+');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    const to = this.blobPath(digest);
    await mkdir(join(to, '..'), { recursive: true });
    await rename(from, to);
  }

  async deleteUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }

  async *listUploads(): AsyncIterable<{ id: string; modified: Date }> {
    for await (const entry of await opendir(this.uploadsDir)) {
      if (!entry.isFile()) continue;
      const s = await stat(join(this.uploadsDir, entry.name)).catch(() => undefined);
      if (s) yield { id: entry.name, modified: s.mtime };
    }
  }

  private blobPath(digest: Digest): string {
    const [algorithm, hex] = digest.split(':') as [string, string];
    return join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }

  private uploadPath(id: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
    return join(this.uploadsDir, id);
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
