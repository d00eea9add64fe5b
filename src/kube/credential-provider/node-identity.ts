import { CredentialProviderError } from './protocol.js';

import { parseJsonQuietly } from '../quiet-json.js';
/**
 * A node's configuration, in the shape of AKS's /etc/kubernetes/azure.json (the keys the cloud provider and
 * acr-credential-provider read: tenantId, aadClientId, aadClientSecret, useManagedIdentityExtension,
 * userAssignedIdentityID, resourceManagerEndpoint, ...), plus what a self-hosted cloud must add: where its
 * identity plane is, which registries it serves, and the CA that signs them.
 */
export interface AzureJson {
  cloud: string;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  aadClientId: string;
  aadClientSecret: string;
  useManagedIdentityExtension: boolean;
  /** The kubelet identity's client id, in managed identity mode. */
  userAssignedIdentityID: string;
  resourceManagerEndpoint: string;
  /** The identity plane's authority host, as AKS's custom-cloud environment file names it. */
  activeDirectoryEndpoint: string;
  /** In managed identity mode: the IMDS-style token endpoint (Azure's is http://169.254.169.254/metadata/identity/oauth2/token). */
  managedIdentityEndpoint?: string;
  /** The login servers credentials are given for: the provider's matchImages. */
  containerRegistryServers: string[];
  /** PEM of the CA that signs the identity plane's and registries' certificates, when it is not a public one. */
  caCertificate?: string;
}

/** How the node proves who it is. */
export type NodeIdentity =
  | { kind: 'servicePrincipal'; tenantId: string; clientId: string; clientSecret: string }
  | { kind: 'managedIdentity'; clientId: string; endpoint: string };

export interface NodeConfig {
  identity: NodeIdentity;
  authorityHost: string;
  registries: string[];
  ca: string | undefined;
}

/** Azure's instance metadata token endpoint, the managed identity default. */
const IMDS_TOKEN_ENDPOINT = 'http://169.254.169.254/metadata/identity/oauth2/token';

/** Reads azure.json; its errors name the key at fault and never a value. */
export function parseAzureJson(text: string, file: string): NodeConfig {
  let parsed: unknown;
  try {
    parsed = parseJsonQuietly(text);
  } catch (err) {
    throw new CredentialProviderError(`${file} is ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CredentialProviderError(`${file} is not a JSON object`);
  const c = parsed as Partial<AzureJson>;
  const requiredText = (key: keyof AzureJson): string => {
    const v = c[key];
    if (typeof v !== 'string' || v === '') throw new CredentialProviderError(`${file}: ${key} is missing or empty`);
    return v;
  };
  const registries = c.containerRegistryServers;
  if (!Array.isArray(registries) || registries.some((r) => typeof r !== 'string' || r === '')) {
    throw new CredentialProviderError(`${file}: containerRegistryServers must be a list of login servers`);
  }
  const url = (key: keyof AzureJson, value: string): string => {
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new CredentialProviderError(`${file}: ${key} ${JSON.stringify(value)} is not an http(s) URL`);
    return value;
  };
  const identity: NodeIdentity = c.useManagedIdentityExtension === true
    ? { kind: 'managedIdentity', clientId: requiredText('userAssignedIdentityID'), endpoint: url('managedIdentityEndpoint', c.managedIdentityEndpoint || IMDS_TOKEN_ENDPOINT) }
    : { kind: 'servicePrincipal', tenantId: requiredText('tenantId'), clientId: requiredText('aadClientId'), clientSecret: requiredText('aadClientSecret') };
  return {
    identity,
    authorityHost: url('activeDirectoryEndpoint', requiredText('activeDirectoryEndpoint')).replace(/\/+$/, ''),
    registries: registries.map((r) => r.toLowerCase()),
    ca: typeof c.caCertificate === 'string' && c.caCertificate !== '' ? c.caCertificate : undefined,
  };
}
