import { existsSync } from 'node:fs';
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
import { RegistryAccess } from '../registry/access/access-service.js';
import { SecretBox } from '../crypto/secret-box.js';
import { SigningKeyRing } from '../crypto/signing-key-ring.js';
import { SqliteAccessStore } from '../registry/access/sqlite-access-store.js';
import { AccessGranter } from '../registry/auth/grants.js';
import { REFRESH_TOKEN_LIFETIME_S, RegistryTokens, TOKEN_ALGORITHM } from '../registry/auth/registry-tokens.js';
import { SqliteKeyStore } from '../registry/auth/sqlite-key-store.js';
import { RegistryTokenService } from '../registry/auth/token-service.js';
import { AttributeGuard } from '../registry/metadata-api/guard.js';
import { AcrMetadataService } from '../registry/metadata-api/service.js';
import { SqliteMetadataApiStore } from '../registry/metadata-api/sqlite-store.js';
import type { RegistryRecord } from '../registry/metadata.js';

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
  /** The registries' admin users, scope maps and repository-scoped tokens. */
  access: RegistryAccess;
  /** ACR's token service; it authorizes every registry request. */
  tokens: RegistryTokenService;
  /** The keys registry tokens are signed with (the identity plane's are behind IdentityService). */
  registryKeys: SigningKeyRing;
  guard: AttributeGuard;
  metadataApi: AcrMetadataService;
  close(): void;
}

/**
 * For the commands that work on a server's data (all but `serve`, which makes the folder on first start): a folder
 * that is not there is a mistyped --data-dir, not a new, empty Anchorage to report on.
 */
export function requireDataFolder(config: Config): void {
  if (!existsSync(config.dataDir)) {
    throw new Error(`there is no data folder at ${config.dataDir}: \`anchorage serve\` makes one on first start; or give --data-dir the folder it uses`);
  }
}

export async function openAnchorage(config: Config): Promise<Anchorage> {
  const db = join(config.dataDir, 'anchorage.db');
  const secrets = SecretBox.open(join(config.dataDir, 'secrets.key'));
  const metadata = new SqliteMetadataStore(db);
  const blobStore = await new FilesystemBlobStore(join(config.dataDir, 'storage')).init();
  const registries = new RegistryDirectory(metadata, { mainPort: config.port, host: config.host, registryDomain: config.registryDomain });
  await registries.refresh();
  const identity = await SqliteIdentityService.open(db, { publicUrl: config.publicUrl });
  const rbac = new RbacService(new SqliteAssignmentStore(db));
  const accessStore = new SqliteAccessStore(db);
  const access = new RegistryAccess(accessStore, secrets, registries);
  const arm = new ResourceManager(new SqliteResourceStore(db), identity, rbac, registries, access, secrets,
    { publicUrl: config.publicUrl, registryDomain: config.registryDomain });
  // RBAC decides at the registry's resource id; a registry the resource manager has not placed yet answers to assignments at "/" only.
  const scopeOf = (r: RegistryRecord): string => r.resourceId ?? `/providers/Microsoft.ContainerRegistry/registries/${r.name}`;
  const keyStore = new SqliteKeyStore(db);
  const registryKeys = new SigningKeyRing(keyStore, TOKEN_ALGORITHM, REFRESH_TOKEN_LIFETIME_S * 1000);
  const tokens = new RegistryTokenService(identity, access, new AccessGranter(rbac, scopeOf), new RegistryTokens(registryKeys));
  const metadataApiStore = new SqliteMetadataApiStore(db);
  const manifests = new ManifestService(metadata);
  const guard = new AttributeGuard(metadataApiStore);
  return {
    config, metadata, blobStore, registries,
    blobs: new BlobService(metadata, blobStore),
    uploads: new UploadService(metadata, blobStore),
    manifests,
    identity, rbac, arm, access, tokens, registryKeys, guard,
    metadataApi: new AcrMetadataService(metadataApiStore, manifests, guard),
    close: () => {
      metadataApiStore.close();
      keyStore.close();
      accessStore.close();
      arm.close();
      rbac.close();
      identity.close();
      metadata.close();
    },
  };
}
