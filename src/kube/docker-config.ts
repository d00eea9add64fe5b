import { goJsonCompact } from './go-json.js';
import { parseJsonQuietly } from './quiet-json.js';

/**
 * Docker registry credentials in the two shapes Kubernetes knows: the `.dockerconfigjson` that
 * `kubectl create secret docker-registry` writes, and the entries the kubelet reads back from a pull
 * secret (pkg/credentialprovider/config.go: DockerConfigJSON, DockerConfigEntry, decodeDockerConfigFieldAuth).
 */

export interface RegistryLogin {
  username: string;
  password: string;
  email?: string | undefined;
}

/** One credential the kubelet reads: the key it is filed under (a server, maybe with a path or glob) and the login. */
export interface DockerConfigEntry {
  key: string;
  username: string;
  password: string;
  email: string;
}

export class DockerConfigError extends Error {}

/**
 * `{"auths":{"<server>":{"username","password","email"?,"auth"}}}`, compact, fields in that order, email left
 * out when empty and `auth` = base64("username:password"): byte for byte what kubectl 1.32 puts in the secret.
 */
export function dockerConfigJson(server: string, login: RegistryLogin): string {
  const entry: Record<string, string> = { username: login.username, password: login.password };
  if (login.email) entry['email'] = login.email;
  entry['auth'] = Buffer.from(`${login.username}:${login.password}`, 'utf8').toString('base64');
  return goJsonCompact({ auths: { [server]: entry } });
}

/** A `kubernetes.io/dockerconfigjson` secret's `.dockerconfigjson`: the `auths` map (a missing one is no credential). */
export function parseDockerConfigJson(text: string): DockerConfigEntry[] {
  const parsed = parseObject(text);
  const auths = field(parsed, 'auths');
  if (auths === undefined || auths === null) return [];
  if (!isObject(auths)) throw new DockerConfigError('json: cannot unmarshal auths into Go struct field DockerConfigJSON.auths of type credentialprovider.DockerConfig');
  return entries(auths);
}

/** A `kubernetes.io/dockercfg` secret's `.dockercfg`: the legacy bare map of server to entry. */
export function parseDockercfg(text: string): DockerConfigEntry[] {
  return entries(parseObject(text));
}

function entries(map: Record<string, unknown>): DockerConfigEntry[] {
  return Object.entries(map).map(([key, value]) => {
    if (!isObject(value)) throw new DockerConfigError(`json: cannot unmarshal the entry for ${key} into Go value of type credentialprovider.DockerConfigEntry`);
    const text = (name: string): string => {
      const v = field(value, name);
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw new DockerConfigError(`json: cannot unmarshal ${typeof v} into Go struct field .${name} of type string`);
      return v;
    };
    let username = text('username');
    let password = text('password');
    const auth = text('auth');
    // A non-empty `auth` wins over username and password, as in the kubelet.
    if (auth !== '') ({ username, password } = decodeAuthField(auth));
    return { key, username, password, email: text('email') };
  });
}

/**
 * base64("username:password"): padded input is decoded as StdEncoding, unpadded as RawStdEncoding, both strict,
 * then split at the first colon; Go's error texts.
 */
export function decodeAuthField(field: string): { username: string; password: string } {
  const padded = field.trim().endsWith('=');
  const bad = padded ? firstBadStdByte(field) : firstBadRawByte(field);
  if (bad !== undefined) throw new DockerConfigError(`illegal base64 data at input byte ${bad}`);
  const decoded = Buffer.from(field, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new DockerConfigError('unable to parse auth field, must be formatted as base64(username:password)');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const BASE64_ALPHABET = /[A-Za-z0-9+/]/;

function firstBadRawByte(s: string): number | undefined {
  for (let i = 0; i < s.length; i++) if (!BASE64_ALPHABET.test(s[i]!)) return i;
  // One character left over cannot encode a byte.
  return s.length % 4 === 1 ? s.length - 1 : undefined;
}

function firstBadStdByte(s: string): number | undefined {
  if (s.length % 4 !== 0) {
    const body = s.replace(/=+$/, '');
    const bad = firstBadRawByte(body);
    return bad ?? s.length - (s.length % 4);
  }
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - pad; i++) if (!BASE64_ALPHABET.test(s[i]!)) return i;
  return undefined;
}

function parseObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseJsonQuietly(text);
  } catch (err) {
    throw new DockerConfigError(`the docker config is ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new DockerConfigError('json: cannot unmarshal a non-object into Go value of type credentialprovider.DockerConfigJSON');
  return parsed;
}

/** Go's json.Unmarshal matches field names case-insensitively, an exact match first. */
function field(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
