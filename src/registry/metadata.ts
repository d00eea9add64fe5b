import type { Digest } from './names.js';

/**
 * The registry's metadata contract. Every method is atomic on its own; the blob store holds content,
 * this holds everything that says which content belongs where. SQLite implements it for one process,
 * a PostgreSQL implementation follows the same contract for replicas.
 */
export interface RegistryRecord {
  id: number;
  name: string;
  loginServer: string;
  port: number | null;
  anonymousPull: boolean;
  /** Whether gc removes manifests that no tag and no index references. */
  gcUntagged: boolean;
  createdAt: string;
  /** The resource manager's id for it (/subscriptions/.../registries/NAME): the scope RBAC decides pulls at. Null for a registry made by the CLI. */
  resourceId: string | null;
}

export interface ManifestRecord {
  digest: Digest;
  mediaType: string;
  size: number;
  content: Buffer;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface NewManifest {
  digest: Digest;
  mediaType: string;
  artifactType: string | null;
  subject: Digest | null;
  annotations: Record<string, string> | null;
  content: Buffer;
  /** Blobs (config, layers) that must already be linked to the repository. */
  blobs: Digest[];
  /** Manifests an index lists, which must already be in the repository. */
  children: Digest[];
  tag?: string;
}

export type PutManifestResult = { ok: true } | { ok: false; missingBlobs: Digest[]; missingManifests: Digest[] };

export type DeleteManifestResult = 'deleted' | 'unknown' | { referencedBy: Digest };

export interface UploadRecord {
  id: string;
  registryId: number;
  repository: string;
  size: number;
  createdAt: number;
}

export type RecordBlobResult = 'new' | 'existing' | 'being-deleted';

export interface Page {
  n?: number;
  last?: string;
}

export interface MetadataStore {
  createRegistry(r: { name: string; loginServer: string; port: number | null; anonymousPull?: boolean; resourceId?: string | null }): Promise<RegistryRecord>;
  updateRegistry(name: string, patch: { anonymousPull?: boolean; gcUntagged?: boolean; resourceId?: string }): Promise<RegistryRecord | undefined>;
  getRegistry(name: string): Promise<RegistryRecord | undefined>;
  listRegistries(): Promise<RegistryRecord[]>;
  deleteRegistry(name: string): Promise<boolean>;

  /** Records that content with this digest is being stored; refused while gc is removing the same digest. */
  recordBlob(digest: Digest, size: number): Promise<RecordBlobResult>;
  /** Links stored content to a repository; false when no such content is stored. */
  linkBlob(registryId: number, repository: string, digest: Digest): Promise<boolean>;
  getLinkedBlob(registryId: number, repository: string, digest: Digest): Promise<{ size: number } | undefined>;
  unlinkBlob(registryId: number, repository: string, digest: Digest): Promise<boolean>;
  /** Whether a repository of this registry holds the digest (the candidates for a mount without `from`). */
  registryHasBlob(registryId: number, digest: Digest): Promise<boolean>;

  putManifest(registryId: number, repository: string, m: NewManifest): Promise<PutManifestResult>;
  getManifest(registryId: number, repository: string, reference: { tag?: string; digest?: Digest }): Promise<ManifestRecord | undefined>;
  deleteManifest(registryId: number, repository: string, digest: Digest): Promise<DeleteManifestResult>;
  deleteTag(registryId: number, repository: string, tag: string): Promise<boolean>;
  /**
   * Whether the repository holds a manifest: only then is it listed (tags, catalog). Blobs or an upload alone
   * do not make one, so a cancelled or refused push leaves no repository that clients can see.
   */
  repositoryHasManifests(registryId: number, repository: string): Promise<boolean>;
  listTags(registryId: number, repository: string, page: Page): Promise<string[]>;
  listRepositories(registryId: number, page: Page): Promise<string[]>;
  listReferrers(registryId: number, repository: string, subject: Digest): Promise<Descriptor[]>;

  createUpload(u: { id: string; registryId: number; repository: string }): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  setUploadSize(id: string, size: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  listUploadsBefore(createdBefore: number): Promise<string[]>;

  /** Manifests of registries with gcUntagged that no tag, index or live subject keeps, older than the cut-off. */
  untaggedManifests(olderThan: number): Promise<Array<{ registryId: number; repository: string; digest: Digest }>>;
  /** Removes repository links to blobs no manifest of that repository references, older than the cut-off. */
  unlinkUnreferencedBlobs(olderThan: number): Promise<number>;
  /** Marks content with no links, written before the cut-off, as being deleted and returns it. */
  beginBlobDeletion(olderThan: number, limit: number): Promise<Array<{ digest: Digest; size: number }>>;
  finishBlobDeletion(digests: Digest[]): Promise<void>;
  /**
   * Runs `work` against a private copy of this store, as of now, and then discards the copy, so that gc's
   * dry run counts exactly what a real run would remove. Writers are not held up meanwhile.
   */
  rehearse<T>(work: (view: MetadataStore) => Promise<T>): Promise<T>;

  close(): void;
}
