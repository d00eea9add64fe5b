/**
 * Registry token scopes as docker's token protocol writes them: `type:name:action,action`, e.g.
 * `repository:team/app:pull,push` or `registry:catalog:*`. A token's `access` claim lists the same triples.
 */

export interface ResourceActions {
  type: string;
  name: string;
  actions: string[];
}

/** ACR's actions on a repository; `*` asks for all of them. */
export const REPOSITORY_ACTIONS = ['pull', 'push', 'delete', 'metadata_read', 'metadata_write'] as const;
export type RepositoryAction = (typeof REPOSITORY_ACTIONS)[number];

export const CATALOG: ResourceActions = { type: 'registry', name: 'catalog', actions: ['*'] };

/**
 * Parses `scope` values: each may hold several scopes separated by spaces (docker's POST form joins them),
 * and a parameter may be repeated (docker's GET form). Malformed entries are skipped, as distribution does;
 * the same resource asked twice is merged.
 */
export function parseScopes(values: readonly string[]): ResourceActions[] {
  const merged = new Map<string, ResourceActions>();
  for (const scope of values.flatMap((v) => v.split(' ')).filter(Boolean)) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const actions = scope.slice(last + 1).split(',').filter(Boolean);
    if (!name || actions.length === 0) continue;
    const key = `${type}:${name}`;
    const entry = merged.get(key) ?? { type, name, actions: [] };
    for (const a of actions) if (!entry.actions.includes(a)) entry.actions.push(a);
    merged.set(key, entry);
  }
  return [...merged.values()];
}

export function formatScope(r: ResourceActions): string {
  return `${r.type}:${r.name}:${r.actions.join(',')}`;
}

/** Whether `granted` holds every action of every resource in `required`. */
export function covers(granted: readonly ResourceActions[], required: readonly ResourceActions[]): boolean {
  return required.every((need) => {
    const have = granted.find((g) => g.type === need.type && g.name === need.name);
    return have !== undefined && need.actions.every((a) => have.actions.includes(a));
  });
}
