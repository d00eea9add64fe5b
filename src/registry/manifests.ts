import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';
import { MEDIA_TYPES, parseManifest } from './manifest-format.js';
import type { Descriptor, ManifestRecord, MetadataStore, Page, RegistryRecord } from './metadata.js';
import { digestAlgorithm, type Digest, type Reference } from './names.js';

export interface PushedManifest {
  digest: Digest;
  /** The subject's digest, for the `OCI-Subject` header. */
  subject: Digest | null;
}

/**
 * The hot-metadata cache: a manifest GET is the request clusters make most. Writes through this process
 * drop a repository's entries at once; the lifetime bounds how long a change made by another process
 * (gc, another replica) can go unseen.
 */
const CACHE_REPOSITORIES = 10_000;
const CACHE_LIFETIME_MS = 5_000;

interface CacheEntry {
  manifest: ManifestRecord;
  expires: number;
}

/** Manifests, tags, the catalog and referrers of the registries' repositories. */
export class ManifestService {
  /** Resolved manifests by registry and repository, then by reference. */
  private readonly cache = new Map<string, Map<string, CacheEntry>>();

  constructor(private readonly metadata: MetadataStore) {}

  async get(registry: RegistryRecord, repository: string, reference: Reference): Promise<ManifestRecord> {
    const key = repositoryKey(registry, repository);
    const ref = reference.tag ?? reference.digest;
    const now = Date.now();
    const cached = this.cache.get(key)?.get(ref);
    if (cached && cached.expires > now) return cached.manifest;
    const found = await this.metadata.getManifest(registry.id, repository, reference);
    if (!found) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference.tag ?? reference.digest} is not in repository ${repository}`,
        { reference: reference.tag ?? reference.digest });
    }
    let entries = this.cache.get(key);
    if (!entries) {
      if (this.cache.size >= CACHE_REPOSITORIES) this.cache.delete(this.cache.keys().next().value as string);
      entries = new Map();
      this.cache.set(key, entries);
    }
    entries.set(ref, { manifest: found, expires: now + CACHE_LIFETIME_MS });
    return found;
  }

  async put(registry: RegistryRecord, repository: string, reference: Reference, body: Buffer, contentType: string | undefined): Promise<PushedManifest> {
    const algorithm = reference.digest ? digestAlgorithm(reference.digest) : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(body).digest('hex')}` as Digest;
    if (reference.digest && reference.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', `the manifest's digest is ${digest}, not ${reference.digest}`, { digest: reference.digest, actual: digest });
    }
    const parsed = parseManifest(body, contentType);
    const result = await this.metadata.putManifest(registry.id, repository, {
      ...parsed, digest, content: body, ...(reference.tag !== undefined ? { tag: reference.tag } : {}),
    });
    this.forget(registry, repository);
    if (!result.ok) {
      if (result.missingBlobs.length) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob ${result.missingBlobs[0]} is not in repository ${repository}; push it before the manifest`,
          { missing: result.missingBlobs });
      }
      // The spec's MANIFEST_BLOB_UNKNOWN is "manifest references a manifest or blob unknown to registry" (distribution answers so too).
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest ${result.missingManifests[0]} that the index lists is not in repository ${repository}; push it first`,
        { missing: result.missingManifests });
    }
    return { digest, subject: parsed.subject };
  }

  /** By tag, removes the tag only; by digest, removes the manifest and every tag that points at it. */
  async delete(registry: RegistryRecord, repository: string, reference: Reference): Promise<void> {
    this.forget(registry, repository);
    if (reference.tag !== undefined) {
      if (!(await this.metadata.deleteTag(registry.id, repository, reference.tag))) {
        throw new RegistryError('MANIFEST_UNKNOWN', `tag ${reference.tag} is not in repository ${repository}`, { tag: reference.tag });
      }
      return;
    }
    const result = await this.metadata.deleteManifest(registry.id, repository, reference.digest);
    if (result === 'unknown') {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference.digest} is not in repository ${repository}`, { digest: reference.digest });
    }
    if (result !== 'deleted') {
      throw new RegistryError('MANIFEST_REFERENCED',
        `manifest ${reference.digest} is listed by index ${result.referencedBy} in repository ${repository}; delete the index first`,
        { digest: reference.digest, referencedBy: result.referencedBy });
    }
  }

  async tags(registry: RegistryRecord, repository: string, page: Page): Promise<string[]> {
    if (!(await this.metadata.repositoryHasManifests(registry.id, repository))) {
      throw new RegistryError('NAME_UNKNOWN', `repository ${repository} is not known to registry ${registry.name}`, { name: repository });
    }
    return this.metadata.listTags(registry.id, repository, page);
  }

  async repositories(registry: RegistryRecord, page: Page): Promise<string[]> {
    return this.metadata.listRepositories(registry.id, page);
  }

  /** The referrers of a subject as an OCI image index, filtered by artifactType when one is given. */
  async referrers(registry: RegistryRecord, repository: string, subject: Digest, artifactType?: string): Promise<{ index: object; filtered: boolean }> {
    let manifests: Descriptor[] = await this.metadata.listReferrers(registry.id, repository, subject);
    if (artifactType !== undefined) manifests = manifests.filter((m) => m.artifactType === artifactType);
    return { index: { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }, filtered: artifactType !== undefined };
  }

  private forget(registry: RegistryRecord, repository: string): void {
    this.cache.delete(repositoryKey(registry, repository));
  }
}

function repositoryKey(registry: RegistryRecord, repository: string): string {
  return `${registry.id}/${repository}`;
}
