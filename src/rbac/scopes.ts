import { RbacError } from './types.js';

/**
 * Scopes are ARM ids. Clients send them with stray slashes (azure-core joins `/{scope}/providers/...` onto
 * a base URL, msrestazure concatenates `//metadata`) and in any letter case (`resourcegroups` in AKS ids,
 * `resourceGroups` elsewhere), so they are normalised before they are stored or compared.
 */

/** "/subscriptions//s/" → "/subscriptions/s"; the root stays "/". Rejects scopes that are not paths. */
export function normalizeScope(scope: string): string {
  const trimmed = scope.trim();
  if (!trimmed.startsWith('/') && !/^subscriptions\//i.test(trimmed) && !/^providers\//i.test(trimmed)) {
    throw new RbacError('InvalidScope', `The scope '${scope}' is not valid.`, 400);
  }
  const segments = trimmed.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s === '.' || s === '..')) throw new RbacError('InvalidScope', `The scope '${scope}' is not valid.`, 400);
  return `/${segments.join('/')}`;
}

/** The key two scopes compare by: ARM ids are case-insensitive. */
export function scopeKey(scope: string): string {
  return normalizeScope(scope).toLowerCase();
}

/** Whether `scope` is `ancestor` or lies under it, segment by segment (so /rg/a does not contain /rg/ab). */
export function isWithinScope(scope: string, ancestor: string): boolean {
  const s = scopeKey(scope);
  const a = scopeKey(ancestor);
  return a === '/' || s === a || s.startsWith(`${a}/`);
}

/** The subscription id a scope lies in, if any. */
export function subscriptionOf(scope: string): string | undefined {
  const m = /^\/subscriptions\/([^/]+)/i.exec(normalizeScope(scope));
  return m?.[1];
}
