import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, opendir, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Digest } from '../names.js';
import type { BlobStore, ByteRange } from './blob-store.js';
import { BufferPool } from './buffer-pool.js';

/**
 * Sending a blob reads it in 1 MiB pieces, up to three at a time: one is filled from the file while the others are
 * being written out. Measured on pulls of 128 MiB, smaller pieces cost more per byte than they save in cache.
 */
const SEND_PIECE = 1024 * 1024;
const SEND_DEPTH = 3;
const sendBuffers = new BufferPool(SEND_PIECE, 32);

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

  async send(digest: Digest, destination: Writable, range?: ByteRange): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.blobPath(digest), 'r');
      const end = range ? range.end + 1 : (await handle.stat()).size;
      await sendFile(handle, range?.start ?? 0, end, destination);
    } catch (err) {
      destination.destroy();
      throw err;
    } finally {
      await handle?.close();
    }
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

/**
 * Writes bytes [start, end) of a file into the destination through pooled buffers. A buffer is read into again
 * only after the destination's write callback for it has run, when a socket has copied it into the kernel.
 */
async function sendFile(handle: FileHandle, start: number, end: number, destination: Writable): Promise<void> {
  // Rejects as soon as the destination errors or closes early, when a pending write callback may never run.
  const settled = finished(destination);
  settled.catch(() => undefined);
  const pieces: { buffer: Buffer; written: Promise<void> }[] = [];
  let next = 0;
  for (let position = start; position < end; next = (next + 1) % SEND_DEPTH) {
    let piece = pieces[next];
    if (piece) await Promise.race([piece.written, settled]);
    else pieces.push((piece = { buffer: sendBuffers.take(), written: Promise.resolve() }));
    const { bytesRead } = await handle.read(piece.buffer, 0, Math.min(piece.buffer.length, end - position), position);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${position}, before byte ${end}`);
    position += bytesRead;
    piece.written = write(destination, bytesRead === piece.buffer.length ? piece.buffer : piece.buffer.subarray(0, bytesRead));
  }
  await Promise.race([Promise.all(pieces.map((p) => p.written)), settled]);
  destination.end();
  await settled;
  for (const piece of pieces) sendBuffers.release(piece.buffer);
}

function write(destination: Writable, chunk: Buffer): Promise<void> {
  const written = new Promise<void>((resolve, reject) => {
    destination.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
  // Awaited later, after the next read; a rejection meanwhile is not unhandled.
  written.catch(() => undefined);
  return written;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
