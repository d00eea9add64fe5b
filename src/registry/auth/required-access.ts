import { CATALOG, type ResourceActions } from './scopes.js';

/** What a registry route serves, as far as access goes. */
export type AccessKind =
  /** `/v2/`: any authenticated caller. */
  | 'base'
  /** `/v2/_catalog`, `/acr/v1/_catalog`. */
  | 'catalog'
  /** Manifests, blobs, tag lists and referrers of a repository. */
  | 'content'
  /** Upload sessions of a repository. */
  | 'upload'
  /** ACR's metadata API on a repository, its tags and manifests. */
  | 'metadata';

/**
 * The access a request needs, in one place, as distribution's appendAccessRecords decides it: reading is
 * `pull`; writing is `pull` and `push`; deleting is `delete`; a cross-repository mount also reads the source.
 * Upload sessions are part of a push whatever the method (cancelling one is no delete of content), and the
 * metadata API reads with `metadata_read`, changes attributes with `metadata_write` and deletes with `delete`.
 */
export function requiredAccess(kind: AccessKind, method: string, repository: string, mountFrom?: string): ResourceActions[] {
  const on = (...actions: string[]): ResourceActions => ({ type: 'repository', name: repository, actions });
  switch (kind) {
    case 'base':
      return [];
    case 'catalog':
      return [CATALOG];
    case 'upload':
      return [on('pull', 'push'), ...(mountFrom !== undefined && mountFrom !== repository ? [{ type: 'repository', name: mountFrom, actions: ['pull'] }] : [])];
    case 'content':
      if (method === 'GET' || method === 'HEAD') return [on('pull')];
      if (method === 'DELETE') return [on('delete')];
      return [on('pull', 'push')];
    case 'metadata':
      if (method === 'GET' || method === 'HEAD') return [on('metadata_read')];
      if (method === 'DELETE') return [on('delete')];
      return [on('metadata_write')];
  }
}
