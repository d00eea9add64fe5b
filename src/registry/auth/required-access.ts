import { CATALOG, type ResourceActions } from './scopes.js';

/** What a registry route serves, as far as access goes. */
export type RouteTarget =
  /** `/v2/`: any authenticated caller. */
  | 'base'
  /** `/v2/_catalog`, `/acr/v1/_catalog`. */
  | 'catalog'
  | 'manifest'
  | 'blob'
  | 'tags'
  | 'referrers'
  /** Upload sessions and mounts. */
  | 'upload'
  /** ACR's metadata API on a repository, its tags and manifests. */
  | 'metadata';

/**
 * The access a request needs, in one place, as distribution's appendAccessRecords decides it: reading is
 * `pull`; writing is `pull` and `push`; deleting is `delete`; a cross-repository mount also reads the source.
 * Upload sessions are part of a push whatever the method (cancelling one deletes no content), and the
 * metadata API reads with `metadata_read`, changes attributes with `metadata_write` and deletes with `delete`.
 */
export function requiredAccess(target: RouteTarget, method: string, repository: string, mountFrom?: string): ResourceActions[] {
  const on = (...actions: string[]): ResourceActions => ({ type: 'repository', name: repository, actions });
  const reading = method === 'GET' || method === 'HEAD';
  switch (target) {
    case 'base':
      return [];
    case 'catalog':
      return [CATALOG];
    case 'upload':
      return [on('pull', 'push'), ...(mountFrom !== undefined && mountFrom !== repository ? [{ type: 'repository', name: mountFrom, actions: ['pull'] }] : [])];
    case 'metadata':
      return [reading ? on('metadata_read') : method === 'DELETE' ? on('delete') : on('metadata_write')];
    default:
      return [reading ? on('pull') : method === 'DELETE' ? on('delete') : on('pull', 'push')];
  }
}
