/**
 * Resource identifiers compare the way Entra ID compares them: case-insensitively and with or without one
 * trailing slash (`https://management.azure.com` and `https://management.azure.com/` are the same resource).
 * A token's `aud` keeps the form the client asked for, as Entra ID's v1 tokens do.
 */

const canonical = (resource: string): string => resource.replace(/\/$/, '').toLowerCase();

export function sameAudience(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

export function isKnownAudience(resource: string, known: readonly string[]): boolean {
  return known.some((k) => sameAudience(k, resource));
}
