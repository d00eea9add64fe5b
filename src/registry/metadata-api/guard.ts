import type { RouteTarget } from '../auth/required-access.js';
import { RegistryError } from '../errors.js';
import type { RegistryRecord } from '../metadata.js';
import { parseReference } from '../names.js';
import type { ChangeableAttributes, MetadataApiStore, Restrictions } from './store.js';

/** A data-plane request, as the guard needs to see it. */
export interface GuardedRequest {
  target: RouteTarget;
  method: string;
  repository: string;
  /** The manifest reference (tag or digest), for manifest routes. */
  reference?: string;
  /** The source repository of a cross-repository mount. */
  mountFrom?: string;
}

type Need = 'read' | 'write' | 'delete';

/** writeEnabled=false is a lock: it refuses overwrites and deletes; deleteEnabled=false refuses deletes only. */
function allows(a: ChangeableAttributes, need: Need): boolean {
  if (need === 'read') return a.readEnabled;
  if (need === 'write') return a.writeEnabled;
  return a.writeEnabled && a.deleteEnabled;
}

function refuse(what: string, need: Need): RegistryError {
  const attribute = need === 'read' ? 'readEnabled' : need === 'write' ? 'writeEnabled' : 'deleteEnabled or writeEnabled';
  return new RegistryError('DENIED', `The operation is disallowed on this registry, repository or image: ${what} has ${attribute} set to false.`);
}

/**
 * Enforces ACR's changeable attributes on the data plane, before a request reaches its handler. The usual case,
 * a repository with no restricting attribute, costs one indexed lookup; tags are resolved only when a
 * restriction could apply to them.
 */
export class AttributeGuard {
  constructor(private readonly store: MetadataApiStore) {}

  async check(registry: RegistryRecord, request: GuardedRequest): Promise<void> {
    const { target, method, repository } = request;
    if (target === 'base' || target === 'catalog' || target === 'metadata') return;
    if (target === 'upload') {
      await this.require(registry, repository, 'write');
      if (request.mountFrom !== undefined) await this.require(registry, request.mountFrom, 'read');
      return;
    }
    const need: Need = method === 'GET' || method === 'HEAD' ? 'read' : method === 'DELETE' ? 'delete' : 'write';
    if (target === 'manifest' && request.reference !== undefined) {
      await this.requireImage(registry, repository, request.reference, need);
      return;
    }
    await this.require(registry, repository, need);
  }

  /**
   * A manifest by tag or digest: the repository, the tag and the manifest it names must allow it. Deleting a
   * manifest by digest removes its tags too, so each of them must allow that as well.
   */
  async requireImage(registry: RegistryRecord, repository: string, reference: string, need: Need): Promise<void> {
    const found = await this.require(registry, repository, need);
    if (!found) return;
    const ref = parseReference(reference);
    let digest = ref.digest as string | undefined;
    if (ref.tag !== undefined) {
      const tag = found.tags.get(ref.tag);
      if (tag && !allows(tag, need)) throw refuse(`tag ${repository}:${ref.tag}`, need);
      // Pushing or deleting a tag changes the tag only; reading it reads the manifest it names, which must allow that too.
      if (need !== 'read' || found.manifests.size === 0) return;
      digest = (await this.store.tag(registry.id, repository, ref.tag))?.digest;
    }
    if (digest === undefined) return;
    const manifest = found.manifests.get(digest);
    if (manifest && !allows(manifest, need)) throw refuse(`manifest ${repository}@${digest}`, need);
    if (ref.digest !== undefined && need === 'delete' && found.tags.size > 0) {
      for (const tag of (await this.store.manifest(registry.id, repository, ref.digest))?.tags ?? []) {
        const attrs = found.tags.get(tag);
        if (attrs && !allows(attrs, need)) throw refuse(`tag ${repository}:${tag}`, need);
      }
    }
  }

  /** Checks the repository level; returns the repository's restrictions for finer checks, if it has any. */
  async require(registry: RegistryRecord, repository: string, need: Need): Promise<Restrictions | undefined> {
    const found = await this.store.restrictions(registry.id, repository);
    if (found?.repository && !allows(found.repository, need)) throw refuse(`repository ${repository}`, need);
    return found;
  }
}
