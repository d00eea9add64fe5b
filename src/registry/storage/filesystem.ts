import { createReadStream } from 'node:fs';
import { mkdir, open, opendir, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
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
 * Uploads are written in batches of 2 MiB, up to four at once. Against one write at a time through a 1 MiB write
 * stream, this took a 128 MiB push from about 490 to 370 ms; 1 and 4 MiB batches, or eight at once, did no better.
 */
const UPLOAD_BATCH = 2 * 1024 * 1024;
const UPLOAD_DEPTH = 4;

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
    const handle = await open(path, 'r+');
    try {
      return await writeFrom(handle, offset, source);
    } catch (err) {
      await truncate(path, offset).catch(() => undefined);
      throw err;
    } finally {
      await handle.close();
    }
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
 * Writes the source into the file from `offset` on and resolves with the number of bytes written. Chunks are
 * gathered into batches of UPLOAD_BATCH bytes and up to UPLOAD_DEPTH batches are written at once, each at its own
 * offset, so that the request goes on being read while the page cache takes earlier batches. Rejects only once no
 * write is pending, so that the caller can cut the file back.
 */
async function writeFrom(handle: FileHandle, offset: number, source: AsyncIterable<Buffer>): Promise<number> {
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let position = offset;
  const flush = (): void => {
    const [buffers, at, length] = [batch, position, batchBytes];
    batch = [];
    batchBytes = 0;
    position += length;
    const write = handle.writev(buffers, at).then(
      ({ bytesWritten }) => {
        if (bytesWritten !== length) failure ??= new Error(`wrote ${bytesWritten} of ${length} bytes at offset ${at}; is the disk full?`);
      },
      (err: unknown) => { failure ??= err; },
    ).finally(() => pending.delete(write));
    pending.add(write);
  };
  try {
    for await (const chunk of source) {
      if (failure) break;
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes < UPLOAD_BATCH) continue;
      flush();
      while (pending.size >= UPLOAD_DEPTH) await Promise.race(pending);
    }
    if (batchBytes > 0 && !failure) flush();
  } finally {
    await Promise.all(pending);
  }
  if (failure) throw failure;
  return position - offset;
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
