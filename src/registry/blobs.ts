import type { Writable } from 'node:stream';
import { RegistryError } from './errors.js';
import type { MetadataStore, RegistryRecord } from './metadata.js';
import type { Digest } from './names.js';
import type { BlobStore, ByteRange } from './storage/blob-store.js';

export interface BlobContent {
  size: number;
  /** The range served, when one was asked for and satisfiable. */
  range?: ByteRange;
  /** Writes the blob, or the range, into the destination and ends it (see BlobStore.send). */
  send(destination: Writable): Promise<void>;
}

/** Reading and unlinking the blobs of a repository. A repository serves only blobs linked to it. */
export class BlobService {
  constructor(private readonly metadata: MetadataStore, private readonly store: BlobStore) {}

  async stat(registry: RegistryRecord, repository: string, digest: Digest): Promise<number> {
    const linked = await this.metadata.getLinkedBlob(registry.id, repository, digest);
    if (!linked) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${repository}`, { digest });
    return linked.size;
  }

  /** Opens a blob for reading; `range` comes from an HTTP Range header already parsed against the size. */
  async open(registry: RegistryRecord, repository: string, digest: Digest, range?: (size: number) => ByteRange | undefined): Promise<BlobContent> {
    const size = await this.stat(registry, repository, digest);
    const r = range?.(size);
    return { size, ...(r ? { range: r } : {}), send: (destination) => this.store.send(digest, destination, r) };
  }

  async unlink(registry: RegistryRecord, repository: string, digest: Digest): Promise<void> {
    if (!(await this.metadata.unlinkBlob(registry.id, repository, digest))) {
      throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${repository}`, { digest });
    }
  }
}
