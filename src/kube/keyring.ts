import type { DockerConfigEntry } from './docker-config.js';
import { goPathMatch } from './go-path-match.js';

/**
 * The kubelet's credential keyring (kubernetes pkg/credentialprovider/keyring.go): credentials filed under
 * normalized keys, and a lookup that returns every credential whose key matches an image, most specific first.
 */

/** Where a credential came from, so that a report can say which one a pull used. */
export type CredentialSource =
  | { kind: 'secret'; namespace: string; name: string }
  | { kind: 'node'; file: string }
  | { kind: 'provider'; name: string };

export interface TrackedCredential {
  username: string;
  password: string;
  email: string;
  /** The normalized key it matched under. */
  key: string;
  source: CredentialSource;
}

/** Docker Hub: the key its credentials are looked up under when nothing else matched a Docker Hub image. */
const DEFAULT_REGISTRY_HOST = 'index.docker.io';

export class BasicDockerKeyring {
  /** Keys, de-duplicated and sorted in reverse byte order: longer paths before their prefixes, literal labels before `*`. */
  private index: string[] = [];
  private readonly creds = new Map<string, TrackedCredential[]>();

  /** Files each entry under its normalized key; an entry whose key does not parse is skipped, as the kubelet logs and skips it. */
  add(entries: readonly DockerConfigEntry[], source: CredentialSource): void {
    for (const entry of entries) {
      const key = credentialKey(entry.key);
      if (key === undefined) continue;
      const list = this.creds.get(key) ?? [];
      list.push({ username: entry.username, password: entry.password, email: entry.email, key, source });
      this.creds.set(key, list);
    }
    this.index = [...this.creds.keys()].sort(byteOrder).reverse();
  }

  /** Every credential whose key matches `image` (a normalized repository such as docker.io/library/nginx), in the kubelet's order. */
  lookup(image: string): TrackedCredential[] {
    const found: TrackedCredential[] = [];
    for (const key of this.index) if (urlsMatch(key, image)) found.push(...this.creds.get(key)!);
    if (found.length > 0) return found;
    if (isDefaultRegistryMatch(image)) return [...(this.creds.get(DEFAULT_REGISTRY_HOST) ?? [])];
    return [];
  }
}

/** The kubelet's union keyring: each keyring's matches in turn (pod secrets, then the node's, then the providers'). */
export function lookupAll(keyrings: readonly BasicDockerKeyring[], image: string): TrackedCredential[] {
  return keyrings.flatMap((k) => k.lookup(image));
}

/**
 * A docker config key as the kubelet files it: scheme dropped (https:// assumed), a leading /v1/ or /v2/
 * dropped from the path, and the key is host[:port] plus any remaining path. Undefined when it does not parse.
 */
export function credentialKey(location: string): string | undefined {
  const withScheme = /^https?:\/\//.test(location) ? location : `https://${location}`;
  const parsed = parseUrl(withScheme.slice(withScheme.indexOf('//') + 2));
  if (!parsed) return undefined;
  let path = parsed.path;
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path.length > 0 && path !== '/' ? parsed.host + path : parsed.host;
}

/**
 * Whether a key (which may hold globs in its host labels) matches an image: same port (or both none), the same
 * number of host labels each matching as a glob, and the key's path a string prefix of the image's.
 */
export function urlsMatch(glob: string, target: string): boolean {
  const g = parseUrl(glob);
  const t = parseUrl(target);
  if (!g || !t) return false;
  const [globLabels, globPort] = splitHost(g.host);
  const [targetLabels, targetPort] = splitHost(t.host);
  if (globPort !== targetPort) return false;
  if (globLabels.length !== targetLabels.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return globLabels.every((label, i) => goPathMatch(label, targetLabels[i]!));
}

/** Whether an image pulls from Docker Hub, judged from its name alone (no registry, or docker.io, or a first part with no dot or colon). */
export function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first.length === 0) return false;
  if (slash < 0) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}

/**
 * A schemeless URL split as Go's url.Parse splits `https://` + it: host[:port] up to the first `/`, `?` or `#`,
 * then the path. Undefined for what Go refuses: a port that is not digits, spaces or control characters in the host.
 */
function parseUrl(schemeless: string): { host: string; path: string } | undefined {
  const end = schemeless.search(/[/?#]/);
  const host = end < 0 ? schemeless : schemeless.slice(0, end);
  const rest = end < 0 ? '' : schemeless.slice(end);
  const path = rest.startsWith('/') ? rest.split(/[?#]/, 1)[0]! : '';
  if (/[\s\x00-\x1f\x7f"<>\\^`{|}]/.test(host)) return undefined;
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && !host.endsWith(']') && !/^\d*$/.test(host.slice(colon + 1))) return undefined;
  return { host, path };
}

/** Host labels and port, as net.SplitHostPort gives them (no port when there is none to split off). */
function splitHost(host: string): [string[], string] {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d*)$/.exec(host);
  if (!m) return [host.split('.'), ''];
  return [(m[1] ?? m[2]!).split('.'), m[3]!];
}

function byteOrder(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}
