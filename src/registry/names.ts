import { RegistryError } from './errors.js';

/** Grammars from the OCI Distribution Spec v1.1 ("Pulling manifests" and "Content Digests"). */
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ENCODED: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
/** ACR: 5-50 alphanumeric characters. */
const REGISTRY_NAME = /^[a-zA-Z0-9]{5,50}$/;

/** Distribution's limit on a full repository name. */
const MAX_NAME_LENGTH = 255;

export type Digest = `${string}:${string}`;

export function checkRepositoryName(name: string): string {
  if (name.length > MAX_NAME_LENGTH || !REPOSITORY_NAME.test(name)) {
    throw new RegistryError('NAME_INVALID', `invalid repository name "${truncate(name)}": it must match ${REPOSITORY_NAME.source}`, { name });
  }
  return name;
}

export function isTag(reference: string): boolean {
  return TAG.test(reference);
}

export function checkTag(tag: string): string {
  if (!TAG.test(tag)) throw new RegistryError('TAG_INVALID', `invalid tag "${truncate(tag)}": it must match ${TAG.source}`, { tag });
  return tag;
}

export function digestAlgorithm(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** Returns the digest if it is well formed and uses an algorithm this registry verifies (sha256, sha512). */
export function checkDigest(digest: string): Digest {
  if (!DIGEST.test(digest)) throw new RegistryError('DIGEST_INVALID', `invalid digest "${truncate(digest)}"`, { digest });
  const [algorithm, encoded] = digest.split(':', 2) as [string, string];
  const grammar = ENCODED[algorithm];
  if (!grammar) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${truncate(algorithm)}": use sha256 or sha512`, { digest });
  }
  if (!grammar.test(encoded)) throw new RegistryError('DIGEST_INVALID', `invalid ${algorithm} digest "${truncate(digest)}"`, { digest });
  return digest as Digest;
}

/** A manifest reference is a tag or a digest; a digest is recognised by its colon. */
export type Reference = { tag: string; digest?: undefined } | { digest: Digest; tag?: undefined };

export function parseReference(reference: string): Reference {
  if (reference.includes(':')) return { digest: checkDigest(reference) };
  return { tag: checkTag(reference) };
}

export function checkRegistryName(name: string): string {
  if (!REGISTRY_NAME.test(name)) {
    throw new RegistryError('NAME_INVALID', `invalid registry name "${truncate(name)}": use 5 to 50 letters and digits`);
  }
  return name.toLowerCase();
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
