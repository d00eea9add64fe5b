import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

/** Media types the registry tests push. */
export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** The OCI empty descriptor's content: `{}`. */
export const EMPTY_CONFIG = Buffer.from('{}');

export function digestOf(content: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
}

export function descriptorOf(mediaType: string, content: Buffer | string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(content), size: Buffer.byteLength(content), ...extra };
}

/** Random bytes, so that tests sharing a server never collide on content. */
export function randomBlob(size = 64): Buffer {
  return randomBytes(size);
}

/** A syntactically valid digest of content nobody pushed. */
export function unknownDigest(algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return digestOf(randomBytes(16), algorithm);
}

/** RequestInit whose body may be a Buffer, which fetch accepts at run time though its types do not say so. */
export type SendInit = Omit<RequestInit, 'body'> & { body?: BodyInit | Buffer | null; duplex?: 'half' };

/** Basic credentials by origin (`http://localhost:40123`): what `send` presents to each test registry. */
const credentialsByOrigin = new Map<string, string>();

/**
 * Makes `send` (and so RegistryClient) authenticate to a registry with these credentials, as Basic on every
 * request, which ACR accepts on the data plane. startTestServer registers its registry's admin user.
 */
export function useCredentials(registryUrl: string, credentials: { username: string; password: string }): void {
  credentialsByOrigin.set(new URL(registryUrl).origin, `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`);
}

/** The Authorization header value registered for the registry at this URL, if any. */
export function authorizationFor(url: string | URL): string | undefined {
  return credentialsByOrigin.get(new URL(url).origin);
}

/** fetch, with Buffer bodies allowed, and the registry's credentials unless the request brings its own Authorization. */
export function send(url: string | URL, init: SendInit = {}): Promise<Response> {
  const authorization = authorizationFor(url);
  const headers = new Headers(init.headers as HeadersInit | undefined);
  if (authorization && !headers.has('authorization')) headers.set('authorization', authorization);
  return fetch(url, { ...init, headers } as RequestInit);
}

export interface OciErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * Asserts an OCI error response: the status, a JSON body `{"errors":[{code,message,...}]}` whose first
 * error has `code`, and a non-empty message. HEAD responses have no body, so only the status is checked.
 */
export async function assertRegistryError(res: Response, status: number, code: string, method = 'GET'): Promise<OciErrorEntry | undefined> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  if (method === 'HEAD') {
    assert.equal(text, '');
    return undefined;
  }
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as { errors?: OciErrorEntry[] };
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `no errors array in ${text}`);
  const first = body.errors[0]!;
  assert.equal(first.code, code, `expected error code ${code}: ${text}`);
  assert.equal(typeof first.message, 'string');
  assert.ok(first.message.length > 0);
  return first;
}

export interface PushedImage {
  digest: string;
  /** The manifest bytes as pushed. */
  body: Buffer;
  manifest: Record<string, unknown>;
  config: Descriptor;
  layers: Descriptor[];
  /** The pushed descriptor of the manifest, for indexes and subjects. */
  descriptor: Descriptor;
}

export interface ImageOptions {
  /** OCI (default) or Docker schema 2. */
  format?: 'oci' | 'docker';
  layers?: Buffer[];
  /** Replaces the generated config, e.g. the empty config of an artifact. */
  config?: { mediaType: string; content: Buffer };
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A small client of the OCI Distribution API for tests: each push asserts the registry accepted it. */
export class RegistryClient {
  constructor(readonly baseUrl: string) {}

  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }

  fetch(path: string, init?: SendInit): Promise<Response> {
    return send(this.url(path), init);
  }

  /** Monolithic push (`POST ?digest=`); returns the blob's descriptor. */
  async pushBlob(repository: string, content: Buffer, mediaType = 'application/octet-stream', algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<Descriptor> {
    const digest = digestOf(content, algorithm);
    const res = await this.fetch(`/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: 'POST', body: content, headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(res.status, 201, `pushing blob ${digest} to ${repository}: ${await res.text()}`);
    return { mediaType, digest, size: content.length };
  }

  /** Opens an upload session; returns its absolute URL. */
  async startUpload(repository: string): Promise<string> {
    const res = await this.fetch(`/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202, `starting an upload in ${repository}: ${await res.text()}`);
    const location = res.headers.get('location');
    assert.ok(location, 'an upload session has a Location');
    return this.url(location);
  }

  async pushManifest(repository: string, reference: string, manifest: Record<string, unknown> | Buffer, contentType?: string): Promise<{ digest: string; response: Response; body: Buffer }> {
    const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
    const type = contentType ?? (Buffer.isBuffer(manifest) ? undefined : (manifest['mediaType'] as string | undefined));
    const response = await this.fetch(`/v2/${repository}/manifests/${reference}`, {
      method: 'PUT', body, headers: type ? { 'Content-Type': type } : {},
    });
    assert.equal(response.status, 201, `pushing manifest ${reference} to ${repository}: ${await response.clone().text()}`);
    const digest = response.headers.get('docker-content-digest');
    assert.ok(digest);
    return { digest, response, body };
  }

  /** Pushes a config, layers and an image manifest (tagged when `tag` is given, else by digest). */
  async pushImage(repository: string, tag?: string, options: ImageOptions = {}): Promise<PushedImage> {
    const docker = options.format === 'docker';
    const configContent = options.config?.content ?? Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex'),
    }));
    const configType = options.config?.mediaType ?? (docker ? MEDIA.dockerConfig : MEDIA.ociConfig);
    const config = await this.pushBlob(repository, configContent, configType);
    const layers: Descriptor[] = [];
    for (const layer of options.layers ?? [randomBlob(128)]) {
      layers.push(await this.pushBlob(repository, layer, docker ? MEDIA.dockerLayer : MEDIA.ociLayer));
    }
    const mediaType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest;
    const manifest: Record<string, unknown> = {
      schemaVersion: 2, mediaType,
      ...(options.artifactType ? { artifactType: options.artifactType } : {}),
      config, layers,
      ...(options.subject ? { subject: options.subject } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    };
    const { digest, body } = await this.pushManifest(repository, tag ?? digestOf(JSON.stringify(manifest)), manifest);
    assert.equal(digest, digestOf(body));
    return {
      digest, body, manifest, config, layers,
      descriptor: { mediaType, digest, size: body.length },
    };
  }

  /** Pushes an index (OCI, or a Docker manifest list) of manifests already in the repository. */
  async pushIndex(repository: string, reference: string, children: Descriptor[], format: 'oci' | 'docker' = 'oci'): Promise<{ digest: string; body: Buffer }> {
    const mediaType = format === 'docker' ? MEDIA.dockerList : MEDIA.ociIndex;
    const manifests = children.map((c) => ({ ...c, platform: c.platform ?? { architecture: 'amd64', os: 'linux' } }));
    const { digest, body } = await this.pushManifest(repository, reference, { schemaVersion: 2, mediaType, manifests });
    return { digest, body };
  }
}
