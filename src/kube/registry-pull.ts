import { createHash } from 'node:crypto';
import { HttpClient, parseChallenge, type HttpResponse } from './http-client.js';
import type { ImageReference } from './image-reference.js';

/**
 * A pull as containerd's CRI does it for the kubelet, without storing anything: resolve the tag or digest,
 * answer the registry's challenge (a Bearer token from its realm: POST grant_type=password or refresh_token
 * with client_id=containerd-client, falling back to GET with Basic on 400, 401, 404 or 405; or Basic on a
 * Basic challenge), pick the platform's manifest from an index, then fetch the config and every layer and
 * check each digest and size. Failures carry containerd's wording, which the kubelet shows after ErrImagePull.
 */

export interface Login {
  username: string;
  password: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

export type PullAttempt =
  | { ok: true; manifestDigest: string; indexDigest?: string; blobs: number }
  | {
    ok: false;
    /** What the kubelet shows: `failed to pull and unpack image "...": ...`. */
    message: string;
    /** The registry's own words when it refused (the OCI error body's first message), else undefined. */
    registryMessage?: string;
    /** NotFound or Unknown, as containerd's gRPC status says it. */
    code: 'NotFound' | 'Unknown';
    status?: number;
  };

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const INDEX_TYPES = new Set(MANIFEST_TYPES.slice(0, 2));

class PullFailure extends Error {
  constructor(message: string, readonly code: 'NotFound' | 'Unknown', readonly status?: number, readonly registryMessage?: string) {
    super(message);
  }
}

export async function tryPull(http: HttpClient, ref: ImageReference, login: Login | undefined, platform: Platform): Promise<PullAttempt> {
  const spec = ref.pullSpec;
  const session = new RegistrySession(http, ref, login);
  try {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const top = await session.get(`manifests/${reference}`, MANIFEST_TYPES.join(', '), `failed to resolve reference "${spec}"`, reference);
    if (ref.digest && digestOf(top.body) !== ref.digest) {
      throw new PullFailure(`failed to resolve reference "${spec}": the manifest's content does not match its digest ${ref.digest}`, 'Unknown');
    }
    let manifest = top;
    let manifestDigest = ref.digest ?? digestOf(top.body);
    let indexDigest: string | undefined;
    const topJson = parseJson(top.body) as { mediaType?: string; manifests?: Array<{ digest: string; platform?: Platform }> } | undefined;
    if (INDEX_TYPES.has(mediaTypeOf(top)) || (topJson?.manifests && !('config' in topJson))) {
      indexDigest = manifestDigest;
      const match = topJson?.manifests?.find((m) => m.platform && m.platform.os === platform.os && m.platform.architecture === platform.architecture
        && (!platform.variant || m.platform.variant === platform.variant));
      if (!match) throw new PullFailure(`no match for platform in manifest: not found`, 'NotFound');
      manifest = await session.get(`manifests/${match.digest}`, MANIFEST_TYPES.join(', '), `failed to resolve reference "${spec}"`, match.digest);
      manifestDigest = match.digest;
      if (digestOf(manifest.body) !== match.digest) throw new PullFailure(`unexpected manifest digest for ${match.digest}: the registry sent other content`, 'Unknown');
    }
    const image = parseJson(manifest.body) as { config?: { digest: string; size: number }; layers?: Array<{ digest: string; size: number }> } | undefined;
    if (!image?.config) throw new PullFailure(`unsupported manifest ${manifestDigest}: it has no config`, 'Unknown');
    const blobs = [image.config, ...(image.layers ?? [])];
    for (const blob of blobs) await session.checkBlob(blob);
    return { ok: true, manifestDigest, blobs: blobs.length, ...(indexDigest ? { indexDigest } : {}) };
  } catch (err) {
    if (!(err instanceof PullFailure)) throw err;
    return {
      ok: false, message: `failed to pull and unpack image "${spec}": ${err.message}`, code: err.code,
      ...(err.status !== undefined ? { status: err.status } : {}), ...(err.registryMessage ? { registryMessage: err.registryMessage } : {}),
    };
  }
}

/**
 * The registry's own reason for refusing a credential: the manifest asked for with the credential as Basic
 * (which ACR and Anchorage accept on the data plane), so the 401 body carries the authorization decision itself
 * rather than the token's lack of a grant.
 */
export async function refusalReason(http: HttpClient, ref: ImageReference, login: Login | undefined): Promise<string | undefined> {
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES.join(', ') };
  if (login) headers['Authorization'] = basic(login);
  const res = await send(http, `https://${ref.registry}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, { headers });
  return res.status === 200 ? undefined : registryMessage(res) ?? `HTTP ${res.status}`;
}

class RegistrySession {
  private token: string | undefined;
  private readonly base: string;

  constructor(private readonly http: HttpClient, private readonly ref: ImageReference, private readonly login: Login | undefined) {
    this.base = `https://${ref.registry}/v2/${ref.repository}/`;
  }

  async get(path: string, accept: string, context: string, what: string): Promise<HttpResponse> {
    const res = await this.authorized(this.base + path, { Accept: accept }, context);
    if (res.status === 404) throw new PullFailure(`${context}: ${this.ref.registry}/${this.ref.repository}:${what}: not found`, 'NotFound', 404, registryMessage(res));
    if (res.status !== 200) throw statusFailure(context, this.ref, path, res);
    return res;
  }

  async checkBlob(blob: { digest: string; size: number }): Promise<void> {
    const url = `${this.base}blobs/${blob.digest}`;
    let got = await this.http.digest(url, this.authorization());
    if (got.status === 401) {
      await this.authenticate(got.headers['www-authenticate'], `failed to copy ${blob.digest}`);
      got = await this.http.digest(url, this.authorization());
    }
    if (got.status === 404) throw new PullFailure(`failed to copy: httpReadSeeker: failed open: content at ${url} not found: not found`, 'NotFound', 404);
    if (got.status !== 200) throw new PullFailure(`failed to copy: httpReadSeeker: failed open: unexpected status code ${url}: ${got.status}`, 'Unknown', got.status);
    if (got.digest !== blob.digest || got.size !== blob.size) {
      throw new PullFailure(`failed commit on ref "${blob.digest}": unexpected commit digest ${got.digest} (size ${got.size}), expected ${blob.digest} (size ${blob.size}): failed precondition`, 'Unknown');
    }
  }

  private authorization(): Record<string, string> {
    return this.token ? { Authorization: this.token } : {};
  }

  private async authorized(url: string, headers: Record<string, string>, context: string): Promise<HttpResponse> {
    let res = await send(this.http, url, { headers: { ...headers, ...this.authorization() } });
    if (res.status === 401 && !this.token) {
      await this.authenticate(res.headers['www-authenticate'], context);
      res = await send(this.http, url, { headers: { ...headers, ...this.authorization() } });
    }
    return res;
  }

  private async authenticate(header: string | string[] | undefined, context: string): Promise<void> {
    const challenge = parseChallenge(header);
    if (challenge?.scheme === 'basic' && this.login) {
      this.token = basic(this.login);
      return;
    }
    const realm = challenge?.params['realm'];
    if (challenge?.scheme !== 'bearer' || !realm) return;
    const query = new URLSearchParams();
    if (challenge.params['service']) query.set('service', challenge.params['service']);
    if (challenge.params['scope']) query.set('scope', challenge.params['scope']);
    let res: HttpResponse;
    if (this.login) {
      const form = new URLSearchParams(query);
      form.set('client_id', 'containerd-client');
      if (this.login.username) {
        form.set('grant_type', 'password');
        form.set('username', this.login.username);
        form.set('password', this.login.password);
      } else {
        form.set('grant_type', 'refresh_token');
        form.set('refresh_token', this.login.password);
      }
      res = await send(this.http, realm, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      if ([400, 401, 404, 405].includes(res.status)) res = await send(this.http, `${realm}?${query}`, { headers: { Authorization: basic(this.login) } });
    } else {
      res = await send(this.http, `${realm}?${query}`, {});
    }
    const body = parseJson(res.body) as { token?: string; access_token?: string } | undefined;
    const token = body?.access_token ?? body?.token;
    if (res.status !== 200 || !token) {
      const kind = this.login ? 'oauth' : 'anonymous';
      throw new PullFailure(`${context}: failed to authorize: failed to fetch ${kind} token: unexpected status: ${res.status} ${statusText(res.status)}`, 'Unknown', res.status, registryMessage(res));
    }
    this.token = `Bearer ${token}`;
  }
}

async function send(http: HttpClient, url: string, options: Parameters<HttpClient['send']>[1]): Promise<HttpResponse> {
  try {
    return await http.send(url, options);
  } catch (err) {
    const host = new URL(url).host;
    throw new PullFailure(`failed to do request: ${options?.method ?? 'GET'} "${url.split('?', 1)[0]}": ${(err as Error).message} (is ${host} reachable from here?)`, 'Unknown');
  }
}

function statusFailure(context: string, ref: ImageReference, path: string, res: HttpResponse): PullFailure {
  const [kind, what] = path.split('/');
  return new PullFailure(`${context}: pulling from host ${ref.registry} failed with status code [${kind} ${what}]: ${res.status} ${statusText(res.status)}`, 'Unknown', res.status, registryMessage(res));
}

function statusText(status: number): string {
  return ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error' } as Record<number, string>)[status] ?? '';
}

function registryMessage(res: HttpResponse): string | undefined {
  const body = parseJson(res.body) as { errors?: Array<{ code?: string; message?: string }> } | undefined;
  const first = body?.errors?.[0];
  return first ? [first.code, first.message].filter(Boolean).join(': ') : undefined;
}

function mediaTypeOf(res: HttpResponse): string {
  const header = res.headers['content-type'];
  return (Array.isArray(header) ? header[0] : header ?? '').split(';', 1)[0]!.trim();
}

function basic(login: Login): string {
  return `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
}

function digestOf(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
