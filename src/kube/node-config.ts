import { IdentityError } from '../identity/types.js';
import type { Anchorage } from '../server/anchorage.js';
import type { AzureJson } from './credential-provider/node-identity.js';
import { containerdHostsToml } from './containerd-hosts.js';
import { API_VERSIONS } from './credential-provider/protocol.js';

/** Where AKS puts these on a node; the files reference each other by these paths. */
export const NODE_PATHS = {
  azureJson: '/etc/kubernetes/azure.json',
  providerConfig: '/var/lib/kubelet/credential-provider-config.yaml',
  providerBinDir: '/var/lib/kubelet/credential-provider',
} as const;
export const PROVIDER_NAME = 'anchorage-credential-provider';
/** What the kubelet caches a response for when the provider gives no cacheDuration (ours always does). */
const DEFAULT_CACHE_DURATION = '10m';
const PULL_ACTION = 'Microsoft.ContainerRegistry/registries/pull/read';

export interface NodeConfigFiles {
  azureJson: AzureJson;
  /** credential-provider-config.yaml: a kubelet.config.k8s.io/v1 CredentialProviderConfig. */
  providerConfig: string;
  kubeletFlags: string[];
  /**
   * containerd's certs.d entries (`<host>/hosts.toml`, with the CA beside it as ca.crt) when the registries use a
   * private CA: without a hosts.toml naming https, containerd 1.6 speaks plain HTTP to a localhost registry.
   */
  containerdHosts: Array<{ host: string; hostsToml: string }>;
  /** Each registry the provider answers for, and whether the cluster identity may pull from it now (RBAC's reason). */
  registries: Array<{ name: string; loginServer: string; canPull: boolean; reason: string }>;
  /** What was done to the cluster's credentials, when anything was. */
  notes: string[];
}

export class NodeConfigError extends Error {}

/**
 * What a node of a cluster needs to pull with the cluster's identity, made from the data folder's services:
 * the identity's credentials (AKS writes them to azure.json from its own copy; they are not readable through
 * any public API), the registries of the cluster's subscription, and the server's endpoints and CA.
 *
 * A service principal cluster's stored secret is checked against the identity plane first: when it no longer
 * works (expired, or replaced by `az ad sp credential reset`), or when `resetCredentials` asks for it, a new
 * password is added to the cluster's application, which is what `az aks update-credentials
 * --reset-service-principal` does. matchImages lists every registry of the subscription, as AKS's
 * `*.azurecr.io` covers every ACR: RBAC at the registry stays the one decision, so granting AcrPull later needs
 * no change on the node.
 */
export async function makeNodeConfig(app: Anchorage, input: {
  cluster: string; resourceGroup: string; subscriptionId?: string | undefined; caCertificate: string | undefined; resetCredentials?: boolean;
}): Promise<NodeConfigFiles> {
  const subscriptionId = input.subscriptionId ?? app.arm.subscriptions.list()[0]?.subscriptionId;
  if (!subscriptionId) throw new NodeConfigError('there is no subscription in this data folder: start the server once (`anchorage serve`) to create it');
  const cluster = app.arm.clusters.get(subscriptionId, input.resourceGroup, input.cluster);
  const state = cluster.record.state;
  const notes: string[] = [];
  const endpoint = `${app.config.publicUrl}/`;
  const base = {
    cloud: 'AzureStackCloud', tenantId: app.identity.defaultTenantId, subscriptionId, resourceGroup: state.nodeResourceGroup,
    location: cluster.record.location, resourceManagerEndpoint: endpoint, activeDirectoryEndpoint: endpoint,
  };

  let identity: Pick<AzureJson, 'aadClientId' | 'aadClientSecret' | 'useManagedIdentityExtension' | 'userAssignedIdentityID'>;
  let principalObjectId: string;
  if (state.servicePrincipal) {
    const sp = state.servicePrincipal;
    principalObjectId = sp.objectId;
    let secret = input.resetCredentials ? null : app.arm.clusters.nodeSecret(cluster);
    if (secret !== null) {
      try {
        await app.identity.checkClientSecret(sp.clientId, secret);
      } catch (err) {
        if (!(err instanceof IdentityError)) throw err;
        notes.push(`the cluster's stored secret for ${sp.clientId} no longer works (${err.message})`);
        secret = null;
      }
    } else if (!input.resetCredentials) {
      notes.push(`the cluster was created with service principal ${sp.clientId} but without its secret`);
    }
    if (secret === null) {
      const added = await app.identity.addPassword(sp.clientId, { displayName: 'anchorage kube node-config' });
      notes.push(`added a password to application ${sp.clientId} (keyId ${added.keyId}, valid until ${added.endDateTime}), as az aks update-credentials --reset-service-principal does`);
      secret = added.secretText;
      app.arm.clusters.replaceNodeSecret(cluster, secret);
    }
    identity = { aadClientId: sp.clientId, aadClientSecret: secret, useManagedIdentityExtension: false, userAssignedIdentityID: '' };
  } else if (state.kubelet) {
    principalObjectId = state.kubelet.objectId;
    identity = { aadClientId: 'msi', aadClientSecret: 'msi', useManagedIdentityExtension: true, userAssignedIdentityID: state.kubelet.clientId };
    notes.push(`managed identity cluster: the node gets tokens for kubelet identity ${state.kubelet.clientId} from an IMDS-style endpoint (managedIdentityEndpoint in azure.json)`);
  } else {
    throw new NodeConfigError(`cluster ${input.cluster} has neither a service principal nor a kubelet identity`);
  }

  const registries = [];
  for (const r of await app.arm.registries.list(subscriptionId)) {
    const decision = await app.rbac.decide(principalObjectId, { action: PULL_ACTION }, r.id);
    registries.push({ name: r.registry.name, loginServer: r.registry.loginServer, canPull: decision.allowed, reason: decision.reason });
  }
  const servers = registries.map((r) => r.loginServer.toLowerCase());

  const azureJson: AzureJson = {
    ...base, ...identity,
    containerRegistryServers: servers,
    ...(input.caCertificate ? { caCertificate: input.caCertificate } : {}),
  };
  const providerConfig = [
    'apiVersion: kubelet.config.k8s.io/v1',
    'kind: CredentialProviderConfig',
    'providers:',
    `  - name: ${PROVIDER_NAME}`,
    ...(servers.length ? ['    matchImages:', ...servers.map((s) => `      - ${JSON.stringify(s)}`)] : ['    matchImages: []']),
    `    defaultCacheDuration: ${JSON.stringify(DEFAULT_CACHE_DURATION)}`,
    `    apiVersion: ${API_VERSIONS[0]}`,
    '    args:',
    `      - ${NODE_PATHS.azureJson}`,
    '',
  ].join('\n');
  return {
    azureJson, providerConfig, registries, notes,
    containerdHosts: input.caCertificate
      ? servers.map((host) => ({ host, hostsToml: containerdHostsToml(host, ['pull', 'resolve']) }))
      : [],
    kubeletFlags: [`--image-credential-provider-config=${NODE_PATHS.providerConfig}`, `--image-credential-provider-bin-dir=${NODE_PATHS.providerBinDir}`],
  };
}
