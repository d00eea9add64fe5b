import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../names.js';

/** An inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content storage for one server: finished blobs, addressed by digest, and upload sessions, addressed by id.
 * It knows nothing of repositories or manifests (the metadata store does) and never verifies digests
 * (the upload service hashes while it writes). Shaped so that an object-storage driver can implement it:
 * uploads are append-only, and `commitUpload` is the only way content becomes a blob.
 */
export interface BlobStore {
  /** The size of a stored blob, or undefined when it is not stored. */
  stat(digest: Digest): Promise<number | undefined>;
  /**
   * Writes a stored blob, whole or a range of it, into `destination` and ends it; resolves once the destination
   * has taken every byte. Chunks are lent: a driver may reuse a chunk's memory once its write callback has run,
   * so a destination that keeps chunks past that must copy them. On failure the destination is destroyed.
   */
  send(digest: Digest, destination: Writable, range?: ByteRange): Promise<void>;
  delete(digest: Digest): Promise<void>;

  createUpload(id: string): Promise<void>;
  /**
   * Writes the source into the upload from `offset` on, dropping anything stored past it, and resolves with
   * the number of bytes written once they are. On error, the upload is cut back to `offset`.
   */
  appendUpload(id: string, offset: number, source: AsyncIterable<Buffer>): Promise<number>;
  /** The number of bytes an upload holds, or undefined when there is no such upload. */
  uploadSize(id: string): Promise<number | undefined>;
  /** Streams the first `length` bytes of an upload. */
  readUpload(id: string, length: number): Readable;
  /** Makes the upload's bytes durable and stores them as `digest`, replacing any copy already there. */
  commitUpload(id: string, digest: Digest): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Upload sessions with the time of their last write, for purging abandoned ones. */
  listUploads(): AsyncIterable<{ id: string; modified: Date }>;
}
