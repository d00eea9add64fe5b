import { RegistryError } from '../errors.js';
import type { ManifestService } from '../manifests.js';
import type { RegistryRecord } from '../metadata.js';
import { checkDigest, checkTag, type Digest } from '../names.js';
import type { AttributeGuard } from './guard.js';
import type { ChangeableAttributes, ManifestDetails, MetadataApiStore, TagRecord } from './store.js';

/** `n`, `last` and `orderby` of the metadata API's listings. */
export interface ListQuery {
  n?: number;
  last?: string;
  orderby?: 'timedesc' | 'timeasc';
  /** Tags of one manifest only. */
  digest?: Digest;
}

/** One page and, when more follow, the `last` to ask the next page with. */
interface Listing<T> {
  items: T[];
  next?: string;
}

const ATTRIBUTE_NAMES = ['deleteEnabled', 'writeEnabled', 'readEnabled', 'listEnabled'] as const;
const DEFAULT_PAGE = 100;

/** Times as ACR writes them: ISO 8601 in UTC. */
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * ACR's metadata API (`/acr/v1/...`): repositories, tags and manifests with their times, sizes and changeable
 * attributes, in the JSON shapes of ACR (and of @azure/container-registry's models). Deletes go through
 * ManifestService, so that its cache forgets what is gone, and through the guard, so that locks hold here too.
 */
export class AcrMetadataService {
  constructor(private readonly store: MetadataApiStore, private readonly manifestService: ManifestService, private readonly guard: AttributeGuard) {}

  async repository(registry: RegistryRecord, repository: string): Promise<object> {
    const r = await this.store.repository(registry.id, repository);
    if (!r) throw unknownRepository(registry, repository);
    return {
      registry: registry.loginServer, imageName: r.name, createdTime: iso(r.createdAt), lastUpdateTime: iso(r.lastUpdatedAt),
      manifestCount: r.manifestCount, tagCount: r.tagCount, changeableAttributes: r.attributes,
    };
  }

  async updateRepository(registry: RegistryRecord, repository: string, body: unknown): Promise<object> {
    await this.existingRepository(registry, repository);
    await this.store.setAttributes(registry.id, repository, { kind: 'repository' }, checkPatch(body));
    return this.repository(registry, repository);
  }

  /** Deletes every manifest and tag of the repository (indexes before the manifests they list). */
  async deleteRepository(registry: RegistryRecord, repository: string): Promise<{ manifestsDeleted: string[]; tagsDeleted: string[] }> {
    await this.existingRepository(registry, repository);
    let remaining = await this.store.manifests(registry.id, repository);
    for (const m of remaining) await this.guard.requireImage(registry, repository, m.digest, 'delete');
    const result = { manifestsDeleted: [] as string[], tagsDeleted: [] as string[] };
    while (remaining.length) {
      const left: ManifestDetails[] = [];
      for (const m of remaining) {
        try {
          await this.manifestService.delete(registry, repository, { digest: m.digest });
          result.manifestsDeleted.push(m.digest);
          result.tagsDeleted.push(...m.tags);
        } catch (err) {
          if (!(err instanceof RegistryError && err.code === 'MANIFEST_REFERENCED')) throw err;
          left.push(m);
        }
      }
      if (left.length === remaining.length) break;
      remaining = left;
    }
    return result;
  }

  async tags(registry: RegistryRecord, repository: string, query: ListQuery): Promise<{ body: object; next?: string }> {
    await this.existingRepository(registry, repository);
    const visible = (await this.store.tags(registry.id, repository)).filter((t) => t.attributes.listEnabled
      && (query.digest === undefined || t.digest === query.digest));
    const hiddenManifests = new Set((await this.store.manifests(registry.id, repository)).filter((m) => !m.attributes.listEnabled).map((m) => m.digest));
    const page = paginate(visible.filter((t) => !hiddenManifests.has(t.digest)), (t) => t.name, (t) => t.updatedAt, query);
    return { body: { registry: registry.loginServer, imageName: repository, tags: page.items.map(tagView) }, ...(page.next !== undefined ? { next: page.next } : {}) };
  }

  async tag(registry: RegistryRecord, repository: string, tag: string): Promise<object> {
    const t = await this.existingTag(registry, repository, tag);
    return { registry: registry.loginServer, imageName: repository, tag: tagView(t) };
  }

  async updateTag(registry: RegistryRecord, repository: string, tag: string, body: unknown): Promise<object> {
    await this.existingTag(registry, repository, tag);
    await this.store.setAttributes(registry.id, repository, { kind: 'tag', tag }, checkPatch(body));
    return this.tag(registry, repository, tag);
  }

  async deleteTag(registry: RegistryRecord, repository: string, tag: string): Promise<void> {
    await this.existingTag(registry, repository, tag);
    await this.guard.requireImage(registry, repository, tag, 'delete');
    await this.manifestService.delete(registry, repository, { tag });
  }

  async manifests(registry: RegistryRecord, repository: string, query: ListQuery): Promise<{ body: object; next?: string }> {
    await this.existingRepository(registry, repository);
    const visible = (await this.store.manifests(registry.id, repository)).filter((m) => m.attributes.listEnabled);
    const page = paginate(visible, (m) => m.digest, (m) => m.createdAt, query);
    return { body: { registry: registry.loginServer, imageName: repository, manifests: page.items.map(manifestView) }, ...(page.next !== undefined ? { next: page.next } : {}) };
  }

  async manifest(registry: RegistryRecord, repository: string, digest: string): Promise<object> {
    const m = await this.existingManifest(registry, repository, digest);
    return { registry: registry.loginServer, imageName: repository, manifest: manifestView(m) };
  }

  async updateManifest(registry: RegistryRecord, repository: string, digest: string, body: unknown): Promise<object> {
    const m = await this.existingManifest(registry, repository, digest);
    await this.store.setAttributes(registry.id, repository, { kind: 'manifest', digest: m.digest }, checkPatch(body));
    return this.manifest(registry, repository, digest);
  }

  private async existingRepository(registry: RegistryRecord, repository: string): Promise<void> {
    if (!(await this.store.repository(registry.id, repository))) throw unknownRepository(registry, repository);
  }

  private async existingTag(registry: RegistryRecord, repository: string, tag: string): Promise<TagRecord> {
    const found = await this.store.tag(registry.id, repository, checkTag(tag));
    if (!found) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${tag} is not in repository ${repository}`, { tag });
    return found;
  }

  private async existingManifest(registry: RegistryRecord, repository: string, digest: string): Promise<ManifestDetails> {
    const found = await this.store.manifest(registry.id, repository, checkDigest(digest));
    if (!found) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository ${repository}`, { digest });
    return found;
  }
}

function unknownRepository(registry: RegistryRecord, repository: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', `repository ${repository} is not known to registry ${registry.name}`, { name: repository });
}

/** The PATCH body: any of the four attributes, each true or false. */
function checkPatch(body: unknown): Partial<ChangeableAttributes> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RegistryError('UNSUPPORTED', 'the body must be a JSON object of changeable attributes', undefined, 400);
  }
  const patch: Partial<ChangeableAttributes> = {};
  for (const name of ATTRIBUTE_NAMES) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new RegistryError('UNSUPPORTED', `${name} must be true or false`, undefined, 400);
    patch[name] = value;
  }
  return patch;
}

/** Sorts by key (or by time with `orderby`), starts after `last`, takes `n`. */
function paginate<T>(items: T[], key: (t: T) => string, time: (t: T) => number, query: ListQuery): Listing<T> {
  const sorted = [...items];
  if (query.orderby) {
    const sign = query.orderby === 'timeasc' ? 1 : -1;
    sorted.sort((a, b) => sign * (time(a) - time(b)) || key(a).localeCompare(key(b)));
  }
  // By name, `last` need not exist (deleted since the previous page): the page starts after where it would be.
  // By time, a `last` that is gone leaves no place to go on from, so the listing ends there rather than start over.
  const { last } = query;
  const start = last === undefined ? 0
    : !query.orderby ? lowerBound(sorted, (t) => key(t) > last)
    : (sorted.findIndex((t) => key(t) === last) + 1 || sorted.length);
  const n = query.n ?? DEFAULT_PAGE;
  const page = sorted.slice(start, start + n);
  return start + n < sorted.length && page.length ? { items: page, next: key(page[page.length - 1]!) } : { items: page };
}

/** The index of the first item for which `after` holds, in items sorted so that it holds from some index on. */
function lowerBound<T>(items: T[], after: (t: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (after(items[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function tagView(t: TagRecord): object {
  return { name: t.name, digest: t.digest, createdTime: iso(t.updatedAt), lastUpdateTime: iso(t.updatedAt), signed: false, changeableAttributes: t.attributes };
}

interface ParsedManifest {
  mediaType?: string;
  config?: { mediaType?: string; size?: number };
  layers?: Array<{ size?: number }>;
  manifests?: Array<{ digest?: string; platform?: { architecture?: string; os?: string } }>;
}

/** The manifest's own sizes and references, read from its content (which the registry validated when it was pushed). */
function manifestView(m: ManifestDetails): object {
  const parsed = JSON.parse(m.content.toString('utf8')) as ParsedManifest;
  const layersSize = (parsed.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
  return {
    digest: m.digest,
    imageSize: m.size + (parsed.config?.size ?? 0) + layersSize,
    createdTime: iso(m.createdAt),
    lastUpdateTime: iso(m.createdAt),
    mediaType: m.mediaType,
    ...(parsed.config?.mediaType ? { configMediaType: parsed.config.mediaType } : {}),
    ...(parsed.manifests ? {
      references: parsed.manifests.map((c) => ({ digest: c.digest, architecture: c.platform?.architecture, os: c.platform?.os })),
    } : {}),
    tags: m.tags,
    changeableAttributes: m.attributes,
  };
}
