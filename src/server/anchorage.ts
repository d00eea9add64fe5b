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
import { ResourceManager } from '../arm/resource-manager.js';
import { SqliteResourceStore } from '../arm/sqlite-resource-store.js';
import { RbacService } from '../rbac/rbac.js';
import { SqliteAssignmentStore } from '../rbac/sqlite-assignments.js';
import type { Rbac } from '../rbac/types.js';
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
  rbac: Rbac;
  /** The resource manager: subscriptions, resource groups, registries, clusters, role assignments. */
  arm: ResourceManager;
  close(): void;
}

export async function openAnchorage(config: Config): Promise<Anchorage> {
  const metadata = new SqliteMetadataStore(join(config.dataDir, 'anchorage.db'));
  const blobStore = await new FilesystemBlobStore(join(config.dataDir, 'storage')).init();
  const registries = new RegistryDirectory(metadata, { mainPort: config.port, host: config.host, registryDomain: config.registryDomain });
  await registries.refresh();
  const identity = await SqliteIdentityService.open(join(config.dataDir, 'anchorage.db'), { publicUrl: config.publicUrl });
  const rbac = new RbacService(new SqliteAssignmentStore(join(config.dataDir, 'anchorage.db')));
  // No RegistryAccessService yet (src/registry/access): the resource manager answers its calls with 501.
  const arm = new ResourceManager(new SqliteResourceStore(join(config.dataDir, 'anchorage.db')), identity, rbac, registries, undefined,
    { publicUrl: config.publicUrl, registryDomain: config.registryDomain });
  return {
    config, metadata, blobStore, registries,
    blobs: new BlobService(metadata, blobStore),
    uploads: new UploadService(metadata, blobStore),
    manifests: new ManifestService(metadata),
    identity, rbac, arm,
    close: () => {
      arm.close();
      rbac.close();
      identity.close();
      metadata.close();
    },
  };
}
