import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryTokenService } from '../auth/token-service.js';
import type { BlobService } from '../blobs.js';
import type { ManifestService } from '../manifests.js';
import type { RegistryRecord } from '../metadata.js';
import type { AttributeGuard } from '../metadata-api/guard.js';
import type { AcrMetadataService } from '../metadata-api/service.js';
import type { UploadService } from '../uploads.js';

/** The services the registry's HTTP handlers sit on. */
export interface RegistryServices {
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  /** Authentication, authorization and ACR's token endpoints. */
  tokens: RegistryTokenService;
  /** ACR's changeable attributes, enforced before handlers run. */
  guard: AttributeGuard;
  /** ACR's metadata API (`/acr/v1/...`). */
  metadataApi: AcrMetadataService;
}

/** One request to one registry, after routing. */
export interface RegistryRequest {
  req: IncomingMessage;
  res: ServerResponse;
  registry: RegistryRecord;
  /** The repository name, when the route has one. */
  name: string;
  /** The last path segment: a reference, digest or upload id, when the route has one. */
  param: string;
  query: URLSearchParams;
  services: RegistryServices;
}

export type Handler = (r: RegistryRequest) => Promise<void>;
