import type { MetadataStore } from './metadata.js';
import type { BlobStore } from './storage/blob-store.js';

export interface GcOptions {
  dryRun: boolean;
  /** Content younger than this is never removed, so that pushes in progress keep their blobs. */
  graceMs: number;
  /** Upload sessions untouched for this long are abandoned. */
  uploadGraceMs: number;
  onProgress?: (p: GcProgress) => void;
}

export interface GcProgress {
  phase: 'uploads' | 'manifests' | 'links' | 'blobs';
  done: number;
  total?: number;
}

export interface GcSummary {
  uploads: number;
  manifests: number;
  links: number;
  blobs: number;
  bytes: number;
}

const BATCH = 200;

/**
 * Mark and sweep over the metadata: abandoned uploads, then untagged manifests (where a registry's policy
 * says so), then repository links no manifest needs, then content no repository links. A blob is marked
 * as being deleted in the same transaction that finds it unlinked, and an upload of the same digest waits
 * for the mark to clear, so gc is safe while pushes go on.
 */
export async function collectGarbage(metadata: MetadataStore, store: BlobStore, options: GcOptions): Promise<GcSummary> {
  // A dry run sweeps a copy of the metadata for real, so that what only becomes garbage once other
  // garbage is gone (the blobs of an untagged manifest, the children of an untagged index) is counted.
  if (options.dryRun) return metadata.rehearse((view) => sweep(view, store, options));
  return sweep(metadata, store, options);
}

/** Changes the metadata; touches the blob store only when it is not a dry run. */
async function sweep(metadata: MetadataStore, store: BlobStore, options: GcOptions): Promise<GcSummary> {
  const now = Date.now();
  const cutoff = now - options.graceMs;
  const progress = options.onProgress ?? (() => undefined);
  const summary: GcSummary = { uploads: 0, manifests: 0, links: 0, blobs: 0, bytes: 0 };

  const uploadCutoff = now - options.uploadGraceMs;
  const abandon = async (id: string): Promise<void> => {
    if (!options.dryRun) await store.deleteUpload(id);
    await metadata.deleteUpload(id);
    summary.uploads++;
    progress({ phase: 'uploads', done: summary.uploads });
  };
  const oldSessions = new Set(await metadata.listUploadsBefore(uploadCutoff));
  for await (const upload of store.listUploads()) {
    const old = oldSessions.delete(upload.id);
    // Abandoned means untouched: a session started long ago that still receives chunks is alive.
    if (upload.modified.getTime() >= uploadCutoff) continue;
    // A file without a session is left by a crash between creating the two, or by a deleted registry.
    if (old || (await metadata.getUpload(upload.id)) === undefined) await abandon(upload.id);
  }
  // Old sessions whose file is gone: a crash between removing the file and the session.
  for (const id of oldSessions) await abandon(id);

  for (;;) {
    const untagged = await metadata.untaggedManifests(cutoff);
    let removed = 0;
    for (const m of untagged) {
      if ((await metadata.deleteManifest(m.registryId, m.repository, m.digest)) === 'deleted') removed++;
      progress({ phase: 'manifests', done: summary.manifests + removed, total: summary.manifests + untagged.length });
    }
    summary.manifests += removed;
    if (removed === 0) break;
  }

  summary.links = await metadata.unlinkUnreferencedBlobs(cutoff);
  progress({ phase: 'links', done: summary.links, total: summary.links });

  for (;;) {
    const batch = await metadata.beginBlobDeletion(cutoff, BATCH);
    if (batch.length === 0) break;
    if (!options.dryRun) for (const b of batch) await store.delete(b.digest);
    await metadata.finishBlobDeletion(batch.map((b) => b.digest));
    summary.blobs += batch.length;
    summary.bytes += batch.reduce((n, b) => n + b.size, 0);
    progress({ phase: 'blobs', done: summary.blobs });
  }
  return summary;
}
