import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Digest } from '../../src/registry/names.js';
import { openAnchorage } from '../../src/server/anchorage.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';

const ORPHAN = 'a layer pushed and never referenced';
const KEPT = 'a layer a tagged manifest references';

describe('anchorage gc', () => {
  let dataDir: string;
  let config: Config;
  let orphan: Digest;
  let kept: Digest;
  let flags: string[];

  async function* bytes(content: string): AsyncIterable<Buffer> {
    yield Buffer.from(content);
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'anchorage-cli-gc-'));
    const port = String(await freePort());
    flags = ['--data-dir', dataDir, '--port', port];
    config = loadConfig({ 'data-dir': dataDir, port }, {});
    // Content as a push leaves it, written through the services the server uses.
    const app = await openAnchorage(config);
    try {
      const registry = await app.metadata.createRegistry({ name: 'gcregistry', loginServer: 'gcregistry.test', port: null });
      orphan = `sha256:${createHash('sha256').update(ORPHAN).digest('hex')}`;
      kept = `sha256:${createHash('sha256').update(KEPT).digest('hex')}`;
      await app.uploads.monolithic(registry, 'app', orphan, bytes(ORPHAN), ORPHAN.length);
      await app.uploads.monolithic(registry, 'app', kept, bytes(KEPT), KEPT.length);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: kept, size: KEPT.length },
        layers: [],
      }));
      await app.manifests.put(registry, 'app', { tag: 'v1' }, manifest, 'application/vnd.oci.image.manifest.v1+json');
    } finally {
      app.close();
    }
    await sleep(5);
  });

  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function storedSize(digest: Digest): Promise<number | undefined> {
    const app = await openAnchorage(config);
    try {
      return await app.blobStore.stat(digest);
    } finally {
      app.close();
    }
  }

  it('with the default grace period, leaves fresh content alone and says so', async () => {
    const r = await runCli(['gc', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'gc removed 0 blobs (0 B), 0 untagged manifests, 0 repository links and 0 abandoned uploads\n');
    assert.equal(await storedSize(orphan), ORPHAN.length);
  });

  it('--dry-run prints what it would remove and removes nothing', async () => {
    const r = await runCli(['gc', '--dry-run', '--grace', '0s', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `gc would remove 1 blobs (${ORPHAN.length} B), 0 untagged manifests, 1 repository links and 0 abandoned uploads\n`);
    assert.equal(await storedSize(orphan), ORPHAN.length);
  });

  it('removes unreferenced content and prints a summary of what it freed', async () => {
    const r = await runCli(['gc', '--grace', '0s', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `gc removed 1 blobs (${ORPHAN.length} B), 0 untagged manifests, 1 repository links and 0 abandoned uploads\n`);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    assert.equal(await storedSize(orphan), undefined);
    assert.equal(await storedSize(kept), KEPT.length);
  });

  it('refuses a bad --grace with a one-line error', async () => {
    const r = await runCli(['gc', '--grace', 'soon', ...flags]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'anchorage: invalid duration "soon": use a number and ms, s, m, h or d (e.g. 1h)\n');
  });
});
