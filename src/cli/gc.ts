import type { Config } from '../config/config.js';
import { collectGarbage } from '../registry/gc.js';
import { openAnchorage } from '../server/anchorage.js';
import { formatBytes, Progress } from './output.js';

const PHASES = { uploads: 'abandoned uploads', manifests: 'untagged manifests', links: 'unreferenced links', blobs: 'unreferenced blobs' };

/** `anchorage gc [--dry-run] [--grace 1h]` */
export async function gc(config: Config, options: { dryRun: boolean; graceMs: number }): Promise<void> {
  const app = await openAnchorage(config);
  const progress = new Progress();
  try {
    const s = await collectGarbage(app.metadata, app.blobStore, {
      dryRun: options.dryRun,
      graceMs: options.graceMs,
      uploadGraceMs: Math.max(options.graceMs, 24 * 3_600_000),
      onProgress: (p) => progress.update(PHASES[p.phase], p.done, p.total),
    });
    progress.done();
    const verb = options.dryRun ? 'would remove' : 'removed';
    console.log(`gc ${verb} ${s.blobs} blobs (${formatBytes(s.bytes)}), ${s.manifests} untagged manifests, `
      + `${s.links} repository links and ${s.uploads} abandoned uploads`);
  } finally {
    app.close();
  }
}
