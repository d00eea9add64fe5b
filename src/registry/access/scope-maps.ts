import { AccessError, type ScopeMap, type ScopeMapAction } from './types.js';

/**
 * ACR's scope-map grammar: `repositories/<repository>/<content|metadata>/<operation>`, where the repository is a
 * name (`app`), a prefix ending in `/*` (`team/*`: every repository under team/) or `*` (every repository).
 */

export type RepositoryPermission = 'content/read' | 'content/write' | 'content/delete' | 'metadata/read' | 'metadata/write';

const ACTION = /^repositories\/(.+)\/(content\/(?:read|write|delete)|metadata\/(?:read|write))$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{4,49}$/;

interface ParsedAction {
  /** A repository name, or a prefix (with its trailing slash) when `wildcard`. */
  repository: string;
  wildcard: boolean;
  permission: RepositoryPermission;
}

function parse(action: ScopeMapAction): ParsedAction | undefined {
  const m = ACTION.exec(action);
  if (!m) return undefined;
  const [, target, permission] = m as unknown as [string, string, RepositoryPermission];
  if (target === '*') return { repository: '', wildcard: true, permission };
  if (target.endsWith('/*')) {
    const prefix = target.slice(0, -2);
    return REPOSITORY.test(prefix) ? { repository: `${prefix}/`, wildcard: true, permission } : undefined;
  }
  return REPOSITORY.test(target) ? { repository: target, wildcard: false, permission } : undefined;
}

/** Throws AccessError InvalidInput naming the first action that is not in ACR's grammar. */
export function checkScopeMapActions(actions: readonly string[]): ScopeMapAction[] {
  if (actions.length === 0) throw new AccessError('InvalidInput', 'A scope map needs at least one action.');
  for (const a of actions) {
    if (!parse(a)) {
      throw new AccessError('InvalidInput', `The scope map action '${a}' is invalid: use repositories/<repository, prefix/* or *>/content/read|write|delete or metadata/read|write.`);
    }
  }
  return [...new Set(actions)];
}

/** Scope map and token names: 5 to 50 letters, digits, hyphens and underscores; a leading underscore is ACR's own. */
export function checkAccessName(kind: 'scope map' | 'token', name: string): string {
  if (!NAME.test(name)) throw new AccessError('InvalidInput', `The ${kind} name '${name}' is invalid: use 5 to 50 letters, digits, hyphens and underscores, starting with a letter or digit.`);
  return name;
}

/** What a scope map allows on one repository. */
export function permissionsOn(actions: readonly ScopeMapAction[], repository: string): Set<RepositoryPermission> {
  const granted = new Set<RepositoryPermission>();
  for (const a of actions) {
    const p = parse(a);
    if (p && (p.wildcard ? repository.startsWith(p.repository) : repository === p.repository)) granted.add(p.permission);
  }
  return granted;
}

/** Whether a scope map reads the metadata of every repository, which is what listing the catalog shows. */
export function readsAllMetadata(actions: readonly ScopeMapAction[]): boolean {
  return actions.some((a) => a === 'repositories/*/metadata/read');
}

const ALL = (...permissions: RepositoryPermission[]): ScopeMapAction[] => permissions.map((p) => `repositories/*/${p}`);

/** The scope maps every ACR registry has; they cannot be changed or deleted. */
const SYSTEM_SCOPE_MAPS: ReadonlyArray<Omit<ScopeMap, 'createdAt' | 'type'>> = [
  { name: '_repositories_admin', description: 'Can perform all read, write and delete operations on the registry',
    actions: ALL('metadata/read', 'metadata/write', 'content/read', 'content/write', 'content/delete') },
  { name: '_repositories_pull', description: 'Can pull any repository of the registry', actions: ALL('content/read') },
  { name: '_repositories_push', description: 'Can push to any repository of the registry', actions: ALL('content/read', 'content/write') },
];

/** The system scope maps as a registry shows them, dated with the registry. */
export function systemScopeMaps(registryCreatedAt: string): ScopeMap[] {
  return SYSTEM_SCOPE_MAPS.map((m) => ({ ...m, actions: [...m.actions], type: 'SystemDefined', createdAt: registryCreatedAt }));
}

export function isSystemScopeMapName(name: string): boolean {
  return name.startsWith('_');
}
