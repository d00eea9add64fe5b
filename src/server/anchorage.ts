import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { BlobService } from '../registry/blobs.js';
import { ManifestService } from '../registry/manifests.js';
import type { MetadataStore } from '../registry/metadata.js';
import { RegistryDirectory } from '../registry/registries.js';
import { SqliteMetadataStore } from '../registry/sqlite-metadata.js';
import { FilesystemBlobStore } from '../registry/storage/filesystem.js';
import { UploadService } from '../registry/uploads.js';
import { SqliteIdentityService } from '../identity/identity-service.js';
import type { IdentityService } from '../identity/types.js';
import type { BlobStore } from '../registry/storage/blob-store.js';

/** Every service of one data folder, wired together; the server and the CLI commands share it. */
export interface Anchorage {
  config: Config;
  metadata: MetadataStore;
  blobStore: BlobStore;
  registries: RegistryDirectory;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  identity: IdentityService;
  close(): void;
}

export async function openAnchorage(config: Config): Promise<Anchorage> {
  const metadata = new SqliteMetadataStore(join(config.dataDir, 'anchorage.db'));
  const blobStore = await new FilesystemBlobStore(join(config.dataDir, 'storage')).init();
  const registries = new RegistryDirectory(metadata, { mainPort: config.port, host: config.host, registryDomain: config.registryDomain });
  await registries.refresh();
  const identity = await SqliteIdentityService.open(join(config.dataDir, 'anchorage.db'), { publicUrl: config.publicUrl });
  return {
    config, metadata, blobStore, registries,
    blobs: new BlobService(metadata, blobStore),
    uploads: new UploadService(metadata, blobStore),
    manifests: new ManifestService(metadata),
    identity,
    close: () => {
      identity.close();
      metadata.close();
    },
  };
}
