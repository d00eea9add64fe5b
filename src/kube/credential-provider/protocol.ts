/**
 * The kubelet's exec credential provider protocol (kubernetes/kubelet pkg/apis/credentialprovider/v1 and
 * v1beta1 types.go): a CredentialProviderRequest on stdin, a CredentialProviderResponse on stdout with the
 * same apiVersion (the kubelet refuses any other), decoded strictly.
 */

export const API_VERSIONS = ['credentialprovider.kubelet.k8s.io/v1', 'credentialprovider.kubelet.k8s.io/v1beta1'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export interface CredentialProviderRequest {
  apiVersion: ApiVersion;
  kind: 'CredentialProviderRequest';
  image: string;
  /** Only sent when the provider's config asks for service account tokens (KEP-4412); not used here. */
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

export interface CredentialProviderResponse {
  apiVersion: ApiVersion;
  kind: 'CredentialProviderResponse';
  cacheKeyType: 'Image' | 'Registry' | 'Global';
  /** A Go duration ("1h30m0s"); "0s" means do not cache. */
  cacheDuration?: string;
  auth?: Record<string, { username: string; password: string }>;
}

/** Whatever stops the provider from answering: one line for the kubelet's log, never holding a secret. */
export class CredentialProviderError extends Error {}

export function parseRequest(text: string): CredentialProviderRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CredentialProviderError(`the request on stdin is not JSON: ${(err as Error).message}`);
  }
  const r = parsed as Partial<CredentialProviderRequest> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new CredentialProviderError('the request on stdin is not a JSON object');
  if (!API_VERSIONS.includes(r.apiVersion as ApiVersion)) {
    throw new CredentialProviderError(`unsupported apiVersion ${JSON.stringify(r.apiVersion)}: use ${API_VERSIONS.join(' or ')}`);
  }
  if (r.kind !== 'CredentialProviderRequest') throw new CredentialProviderError(`the request's kind is ${JSON.stringify(r.kind)}, not CredentialProviderRequest`);
  if (typeof r.image !== 'string' || r.image === '') throw new CredentialProviderError('the request names no image');
  return r as CredentialProviderRequest;
}

/** Seconds as Go's time.Duration prints them: 1h30m0s, 5m0s, 45s, 0s. */
export function goDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${m}m${rest}s`;
  if (m > 0) return `${m}m${rest}s`;
  return `${rest}s`;
}
