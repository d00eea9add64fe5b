import { createHash, randomUUID, type Hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from './errors.js';
import type { MetadataStore, RegistryRecord } from './metadata.js';
import { digestAlgorithm, type Digest } from './names.js';
import type { BlobStore } from './storage/blob-store.js';

export interface UploadState {
  id: string;
  size: number;
}

/** What a client said about a chunk: `Content-Range: start-end` and `Content-Length`, both optional. */
export interface ChunkInfo {
  start?: number;
  end?: number;
  length?: number;
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How long a commit waits for gc to finish removing the same digest before giving up. */
const GC_WAIT_MS = 30_000;

/**
 * Blob upload sessions: chunked, streamed and monolithic, resumable across restarts, and cross-repository mounts.
 * Content is hashed while it is written; after a restart the hash is rebuilt from the stored bytes.
 */
export class UploadService {
  /** Running sha256 of each upload this process has written, valid while `offset` equals the stored size. */
  private readonly hashes = new Map<string, { hash: Hash; offset: number }>();
  /**
   * Uploads with a request writing to them: a second writer would corrupt the offset bookkeeping, so it is refused;
   * a cancel stops the writer (`stop`) and waits until it has let go (`done`).
   */
  private readonly busy = new Map<string, { stop: AbortController; done: Promise<unknown> }>();

  constructor(private readonly metadata: MetadataStore, private readonly store: BlobStore) {}

  async start(registry: RegistryRecord, repository: string): Promise<UploadState> {
    const id = randomUUID();
    await this.store.createUpload(id);
    await this.metadata.createUpload({ id, registryId: registry.id, repository });
    this.hashes.set(id, { hash: createHash('sha256'), offset: 0 });
    return { id, size: 0 };
  }

  async status(registry: RegistryRecord, repository: string, id: string): Promise<UploadState> {
    const upload = await this.find(registry, repository, id);
    return { id, size: upload.size };
  }

  /** PATCH: appends a chunk (with a Content-Range it must start where the upload ends). */
  async append(registry: RegistryRecord, repository: string, id: string, source: AsyncIterable<Buffer>, chunk: ChunkInfo): Promise<UploadState> {
    return this.exclusive(id, async (stopped) => {
      const upload = await this.find(registry, repository, id);
      const size = await this.write(id, upload.size, untilStopped(source, stopped), chunk);
      return { id, size };
    });
  }

  /** PUT: writes the last chunk, if any, checks the digest and makes the blob part of the repository. */
  async finish(registry: RegistryRecord, repository: string, id: string, digest: Digest, source: AsyncIterable<Buffer> | undefined, chunk: ChunkInfo): Promise<Digest> {
    return this.exclusive(id, async (stopped) => {
      const upload = await this.find(registry, repository, id);
      const size = source ? await this.write(id, upload.size, untilStopped(source, stopped), chunk) : upload.size;
      const actual = await this.digestOf(id, size, digestAlgorithm(digest));
      if (actual !== digest) {
        await this.discard(id);
        throw new RegistryError('DIGEST_INVALID', `the uploaded content has digest ${actual}, not ${digest}`, { digest, actual });
      }
      await this.commit(registry, repository, id, digest, size);
      return digest;
    });
  }

  /** POST with `?digest=`: the whole blob in one request. */
  async monolithic(registry: RegistryRecord, repository: string, digest: Digest, source: AsyncIterable<Buffer>, length: number | undefined): Promise<Digest> {
    const { id } = await this.start(registry, repository);
    return this.finish(registry, repository, id, digest, source, length === undefined ? {} : { length });
  }

  /** DELETE: a request still writing to the upload (a stalled client, say) is stopped first. */
  async cancel(registry: RegistryRecord, repository: string, id: string): Promise<void> {
    const writer = this.busy.get(id);
    if (writer) {
      await this.find(registry, repository, id);
      writer.stop.abort();
      await writer.done.catch(() => undefined);
    }
    await this.exclusive(id, async () => {
      await this.find(registry, repository, id);
      await this.discard(id);
    });
  }

  /**
   * Links a blob another repository of the registry holds. With `from`, only that repository is a valid
   * source; without it, any repository of this registry is. Returns false when nothing could be mounted.
   */
  async mount(registry: RegistryRecord, repository: string, digest: Digest, from: string | undefined): Promise<boolean> {
    const available = from !== undefined
      ? (await this.metadata.getLinkedBlob(registry.id, from, digest)) !== undefined
      : await this.metadata.registryHasBlob(registry.id, digest);
    return available && this.metadata.linkBlob(registry.id, repository, digest);
  }

  private async find(registry: RegistryRecord, repository: string, id: string) {
    const upload = UPLOAD_ID.test(id) ? await this.metadata.getUpload(id) : undefined;
    if (!upload || upload.registryId !== registry.id || upload.repository !== repository) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not in progress for repository ${repository}`, { id });
    }
    return upload;
  }

  private async write(id: string, offset: number, source: AsyncIterable<Buffer>, chunk: ChunkInfo): Promise<number> {
    if (chunk.start !== undefined) {
      if (chunk.start !== offset) {
        throw new RegistryError('RANGE_INVALID', `the chunk starts at byte ${chunk.start} but the upload holds ${offset} bytes`, { expectedStart: offset });
      }
      if (chunk.end !== undefined && chunk.length !== undefined && chunk.end - chunk.start + 1 !== chunk.length) {
        throw new RegistryError('SIZE_INVALID', `Content-Range covers ${chunk.end - chunk.start + 1} bytes but Content-Length is ${chunk.length}`);
      }
    }
    let state = this.hashes.get(id);
    if (!state || state.offset !== offset) state = await this.rehash(id, offset);
    const hashing = state;
    const expected = chunk.end !== undefined && chunk.start !== undefined ? chunk.end - chunk.start + 1 : chunk.length;
    const written = await this.store.appendUpload(id, offset, checked(source, expected, (b) => hashing.hash.update(b)))
      .catch(async (err: unknown) => {
        this.hashes.delete(id);
        throw err;
      });
    hashing.offset = offset + written;
    await this.metadata.setUploadSize(id, hashing.offset);
    return hashing.offset;
  }

  private async rehash(id: string, size: number): Promise<{ hash: Hash; offset: number }> {
    const hash = createHash('sha256');
    await this.hashStored(id, size, hash);
    const state = { hash, offset: size };
    this.hashes.set(id, state);
    return state;
  }

  private async digestOf(id: string, size: number, algorithm: string): Promise<Digest> {
    const state = this.hashes.get(id);
    if (algorithm === 'sha256' && state && state.offset === size) return `sha256:${state.hash.copy().digest('hex')}`;
    const hash = createHash(algorithm);
    await this.hashStored(id, size, hash);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  private async hashStored(id: string, size: number, hash: Hash): Promise<void> {
    if (size === 0) return;
    for await (const chunk of this.store.readUpload(id, size)) hash.update(chunk as Buffer);
  }

  private async commit(registry: RegistryRecord, repository: string, id: string, digest: Digest, size: number): Promise<void> {
    const deadline = Date.now() + GC_WAIT_MS;
    let recorded = await this.metadata.recordBlob(digest, size);
    while (recorded === 'being-deleted') {
      if (Date.now() > deadline) throw new RegistryError('UNAVAILABLE', `garbage collection is removing ${digest}; retry the upload`);
      await sleep(100);
      recorded = await this.metadata.recordBlob(digest, size);
    }
    if (recorded === 'new' || (await this.store.stat(digest)) === undefined) await this.store.commitUpload(id, digest);
    else await this.store.deleteUpload(id);
    await this.metadata.linkBlob(registry.id, repository, digest);
    await this.metadata.deleteUpload(id);
    this.hashes.delete(id);
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await this.store.deleteUpload(id);
    await this.metadata.deleteUpload(id);
  }

  private async exclusive<T>(id: string, work: (stopped: AbortSignal) => Promise<T>): Promise<T> {
    if (this.busy.has(id)) throw new RegistryError('RANGE_INVALID', `another request is writing upload ${id}`);
    const stop = new AbortController();
    const done = work(stop.signal);
    this.busy.set(id, { stop, done });
    try {
      return await done;
    } finally {
      this.busy.delete(id);
    }
  }
}

/**
 * The source's chunks until `stopped` fires, even while the source is waiting for its next chunk; then the source is
 * closed (a request body: its connection goes) and the write fails, so the store cuts the upload back.
 */
async function* untilStopped(source: AsyncIterable<Buffer>, stopped: AbortSignal): AsyncIterable<Buffer> {
  const chunks = source[Symbol.asyncIterator]();
  // One pending read at a time holds the stop's reject; racing every read against one promise would pile up reactions.
  let stopRead: ((err: Error) => void) | undefined;
  const onStop = (): void => stopRead?.(new RegistryError('BLOB_UPLOAD_UNKNOWN', 'the upload was cancelled while this request was writing to it'));
  stopped.addEventListener('abort', onStop, { once: true });
  try {
    for (;;) {
      const next = await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
        stopRead = reject;
        if (stopped.aborted) onStop();
        chunks.next().then(resolve, reject);
      });
      if (next.done) return;
      yield next.value;
    }
  } finally {
    stopped.removeEventListener('abort', onStop);
    // Stopped, a read is still pending, and an async iterator's return() waits behind it: closing the source must
    // not wait for a chunk that may never come. The read ends when the connection closes (the client's, or the
    // server's after SOCKET_IDLE_MS).
    if (stopped.aborted) chunks.return?.()?.catch(() => undefined);
    else await chunks.return?.();
  }
}

/** Passes chunks through to storage, hashing them, and fails the write when the byte count is not the declared one. */
async function* checked(source: AsyncIterable<Buffer>, expected: number | undefined, see: (chunk: Buffer) => void): AsyncIterable<Buffer> {
  let count = 0;
  for await (const chunk of source) {
    count += chunk.length;
    if (expected !== undefined && count > expected) break;
    see(chunk);
    yield chunk;
  }
  if (expected !== undefined && count !== expected) {
    throw new RegistryError('SIZE_INVALID', `received ${count > expected ? 'more than ' : ''}${count > expected ? expected : count} bytes, the request declared ${expected}`);
  }
}
