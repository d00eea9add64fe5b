import { RegistryError } from './errors.js';
import { checkDigest, type Digest } from './names.js';
import type { Descriptor } from './metadata.js';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const IMAGE_MANIFESTS: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const INDEXES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(?:prettyjws|json)$/;
/** Content types that say nothing about the manifest, so the body's own mediaType decides. */
const GENERIC_CONTENT_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

/** The limit distribution, ACR and the OCI spec's recommendation share. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** What the registry needs to know of a manifest to store it and answer the referrers API. */
export interface ParsedManifest {
  mediaType: string;
  artifactType: string | null;
  subject: Digest | null;
  annotations: Record<string, string> | null;
  blobs: Digest[];
  children: Digest[];
}

/**
 * Validates a pushed manifest against the OCI image spec (and Docker schema 2) and extracts its references.
 * Blobs with `urls` (non-distributable layers) are not required to be in the registry.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`the manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw invalid('the manifest must be a JSON object');
  const declared = typeof contentType === 'string' ? contentType.split(';')[0]!.trim().toLowerCase() : '';
  const own = doc['mediaType'];
  if (own !== undefined && typeof own !== 'string') throw invalid('mediaType must be a string');
  if (SCHEMA1.test(declared) || (own !== undefined && SCHEMA1.test(own))) {
    throw new RegistryError('MANIFEST_INVALID', 'Docker schema 1 manifests are not supported; push a schema 2 or OCI manifest');
  }
  const mediaType = own ?? (GENERIC_CONTENT_TYPES.has(declared) ? guessMediaType(doc) : declared);
  if (own !== undefined && !GENERIC_CONTENT_TYPES.has(declared) && own !== declared) {
    throw invalid(`the manifest's mediaType ${own} does not match the Content-Type ${declared}`);
  }
  if (doc['schemaVersion'] !== 2) throw invalid('schemaVersion must be 2');

  const artifactType = optionalString(doc, 'artifactType');
  const subject = doc['subject'] === undefined ? null : descriptor(doc['subject'], 'subject').digest;
  const annotations = stringMap(doc['annotations'], 'annotations');

  if (IMAGE_MANIFESTS.has(mediaType)) {
    const config = descriptor(doc['config'], 'config');
    if (!Array.isArray(doc['layers'])) throw invalid('layers must be an array');
    const layers = doc['layers'].map((l, i) => descriptor(l, `layers[${i}]`));
    const blobs = [config, ...layers].filter((d) => !(Array.isArray(d.urls) && d.urls.length > 0)).map((d) => d.digest);
    return {
      mediaType, subject, annotations, blobs: unique(blobs), children: [],
      artifactType: artifactType ?? (mediaType === MEDIA_TYPES.ociManifest ? config.mediaType : null),
    };
  }
  if (INDEXES.has(mediaType)) {
    if (!Array.isArray(doc['manifests'])) throw invalid('manifests must be an array');
    const children = doc['manifests'].map((m, i) => descriptor(m, `manifests[${i}]`).digest);
    return { mediaType, subject, annotations, artifactType, blobs: [], children: unique(children) };
  }
  throw invalid(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
}

function guessMediaType(doc: Record<string, unknown>): string {
  if (Array.isArray(doc['manifests'])) return MEDIA_TYPES.ociIndex;
  if (doc['config'] !== undefined) return MEDIA_TYPES.ociManifest;
  throw invalid('the manifest has no mediaType and the Content-Type does not name one');
}

type ParsedDescriptor = Descriptor & { urls?: unknown };

function descriptor(value: unknown, where: string): ParsedDescriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string') throw invalid(`${where}.digest must be a string`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  let checked: Digest;
  try {
    checked = checkDigest(digest);
  } catch {
    throw invalid(`${where}.digest ${JSON.stringify(digest)} is not a valid digest`);
  }
  return { mediaType, digest: checked, size, urls: value['urls'] };
}

function optionalString(doc: Record<string, unknown>, key: string): string | null {
  const v = doc[key];
  if (v === undefined) return null;
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

function stringMap(value: unknown, where: string): Record<string, string> | null {
  if (value === undefined) return null;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) throw invalid(`${where} must map strings to strings`);
  return value as Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function invalid(message: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message);
}
