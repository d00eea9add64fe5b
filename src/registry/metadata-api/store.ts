import type { Digest } from '../names.js';

/**
 * ACR's changeable attributes. The registry enforces them: readEnabled=false refuses pulls, writeEnabled=false
 * refuses overwrites and deletes, deleteEnabled=false refuses deletes, listEnabled=false hides from listings.
 */
export interface ChangeableAttributes {
  deleteEnabled: boolean;
  writeEnabled: boolean;
  readEnabled: boolean;
  listEnabled: boolean;
}

export type AttributeTarget = { kind: 'repository' } | { kind: 'tag'; tag: string } | { kind: 'manifest'; digest: Digest };

export interface RepositoryRecord {
  name: string;
  createdAt: number;
  lastUpdatedAt: number;
  manifestCount: number;
  tagCount: number;
  attributes: ChangeableAttributes;
}

export interface TagRecord {
  name: string;
  digest: Digest;
  /** The registry keeps one time per tag: when it was last pointed at a manifest. */
  updatedAt: number;
  attributes: ChangeableAttributes;
}

export interface ManifestDetails {
  digest: Digest;
  mediaType: string;
  size: number;
  content: Buffer;
  createdAt: number;
  tags: string[];
  attributes: ChangeableAttributes;
}

/** The attributes of one repository that forbid something; undefined from `restrictions` when nothing does. */
export interface Restrictions {
  repository?: ChangeableAttributes;
  tags: Map<string, ChangeableAttributes>;
  manifests: Map<string, ChangeableAttributes>;
}

/** What ACR's metadata API reads and writes, over the registry plane's tables. */
export interface MetadataApiStore {
  /** A repository holding at least one manifest. */
  repository(registryId: number, repository: string): Promise<RepositoryRecord | undefined>;
  tags(registryId: number, repository: string): Promise<TagRecord[]>;
  tag(registryId: number, repository: string, tag: string): Promise<TagRecord | undefined>;
  manifests(registryId: number, repository: string): Promise<ManifestDetails[]>;
  manifest(registryId: number, repository: string, digest: Digest): Promise<ManifestDetails | undefined>;
  /** False when the repository, tag or manifest does not exist. */
  setAttributes(registryId: number, repository: string, target: AttributeTarget, patch: Partial<ChangeableAttributes>): Promise<boolean>;
  /** The attributes in the repository that forbid anything: one indexed lookup for the usual case of none. */
  restrictions(registryId: number, repository: string): Promise<Restrictions | undefined>;
  close(): void;
}
