import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.js';
import type { IdentityService } from '../identity/types.js';
import type { Rbac } from '../rbac/types.js';
import { ArmError, invalidParameter, resourceNotFound } from './errors.js';
import { CLUSTER_TYPE, parseScope, resourceId } from './resource-ids.js';
import type { ResourceRecord, ResourceStore } from './resource-store.js';
import { checkLocation, checkTags, checkUnmoved, type ResourceTypeService, type SubscriptionService } from './subscriptions.js';

const USER_ASSIGNED_IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
/** The Kubernetes version a cluster reports when its PUT names none. */
const DEFAULT_KUBERNETES_VERSION = '1.29.7';
const DEFAULT_AGENT_POOL = { name: 'nodepool1', count: 1, vmSize: 'Standard_DS2_v2', osType: 'Linux', mode: 'System' };
/**
 * What AKS gives a cluster whose PUT names no network: kubenet behind a Standard load balancer. Every cluster AKS
 * returns has a networkProfile, and `az aks update` (--attach-acr included) refuses one without it.
 */
const DEFAULT_NETWORK_PROFILE = {
  networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.0.0.0/16', dnsServiceIP: '10.0.0.10',
  outboundType: 'loadBalancer', loadBalancerSku: 'Standard', loadBalancerProfile: { managedOutboundIPs: { count: 1 } },
};
/**
 * Properties the server computes: a client that PUTs a cluster back as it read it (az aks update) sends them
 * too, and they are dropped rather than stored. The identity parts are handled apart.
 */
const COMPUTED_PROPERTIES = ['provisioningState', 'powerState', 'currentKubernetesVersion', 'fqdn', 'azurePortalFQDN', 'nodeResourceGroup', 'maxAgentPools', 'servicePrincipalProfile', 'identityProfile'];

export interface ManagedIdentityRef {
  resourceId: string;
  clientId: string;
  objectId: string;
}

/** What ARM keeps of a cluster. Its principals live in the identity plane; this names them. */
export interface ClusterState {
  /** The PUT's properties as given (dnsPrefix, agentPoolProfiles, networkProfile, ...), minus the identity parts below. */
  properties: Record<string, unknown>;
  sku: unknown;
  fqdn: string;
  nodeResourceGroup: string;
  /** A service-principal cluster: the appId clients read as servicePrincipalProfile.clientId. */
  servicePrincipal?: {
    clientId: string;
    objectId: string;
    /**
     * The secret a cluster's nodes authenticate with (AKS writes it to each node's azure.json), sealed with the
     * data folder's SecretBox (base64): node configuration needs it again, while the identity plane keeps only
     * its hash. Read it through nodeSecret().
     */
    sealedSecret: string | null;
    /** Created with the cluster (and deleted with it), or brought by the caller. */
    owned: boolean;
  };
  /** A managed-identity cluster: its control-plane identity (AKS allows one user-assigned identity). */
  identity?: {
    type: 'SystemAssigned' | 'UserAssigned';
    principalId: string;
    tenantId: string;
    userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
  };
  kubelet?: ManagedIdentityRef;
  /** Object ids of the principals made for this cluster (or first made for another), deleted with the last cluster using them. */
  ownedPrincipals: string[];
}

export interface ManagedCluster {
  record: ResourceRecord<ClusterState>;
  id: string;
}

export interface ClusterInput {
  location?: unknown;
  tags?: unknown;
  sku?: unknown;
  identity?: unknown;
  properties?: unknown;
}

/**
 * `Microsoft.ContainerService/managedClusters`. There are no nodes: a cluster here is its identities, which is
 * what the registry's authentication sees. As AKS does, creating one without servicePrincipalProfile creates
 * its service principal (a real appId and password); with `identity.type` SystemAssigned or UserAssigned it
 * gets managed identities instead, the kubelet's named in identityProfile.kubeletidentity.
 */
export class ManagedClusterService implements ResourceTypeService {
  readonly type = CLUSTER_TYPE;

  constructor(
    private readonly store: ResourceStore,
    private readonly subscriptions: SubscriptionService,
    private readonly identity: IdentityService,
    private readonly rbac: Rbac,
    private readonly secrets: SecretBox,
  ) {}

  async put(subscriptionId: string, resourceGroup: string, name: string, input: ClusterInput): Promise<{ cluster: ManagedCluster; created: boolean }> {
    const group = this.subscriptions.getResourceGroup(subscriptionId, resourceGroup);
    if (!/^[a-zA-Z0-9][-_a-zA-Z0-9]{0,62}$/.test(name)) {
      throw invalidParameter(`The cluster name '${name}' is invalid: use up to 63 letters, digits, '-' and '_', starting with a letter or digit.`);
    }
    const properties = checkObject(input.properties ?? {}, 'properties');
    const existing = this.store.resource(subscriptionId, resourceGroup, CLUSTER_TYPE, name) as ResourceRecord<ClusterState> | undefined;
    const given = checkClusterProperties(Object.fromEntries(Object.entries(properties).filter(([k]) => !COMPUTED_PROPERTIES.includes(k))), existing?.state.properties['dnsPrefix']);
    if (input.sku !== undefined && input.sku !== null) checkStrings(checkObject(input.sku, 'sku'), ['name', 'tier'], 'sku');
    const tags = checkTags(input.tags);
    if (existing) {
      checkUnmoved(existing, input.location);
      // An update (az aks update PUTs the whole cluster back): its identities stay what they are.
      const record = { ...existing, tags: tags ?? existing.tags, state: { ...existing.state, properties: { ...existing.state.properties, ...given } } };
      this.store.putResource(record);
      return { cluster: this.view(record), created: false };
    }

    const location = checkLocation(input.location);
    const identityType = identityTypeOf(input.identity);
    const id = resourceId(group.subscriptionId, group.name, CLUSTER_TYPE, name);
    const nodeResourceGroup = `MC_${group.name}_${name}_${location}`;
    const dnsPrefix = typeof given['dnsPrefix'] === 'string' ? given['dnsPrefix'] : defaultDnsPrefix(name, group.name, group.subscriptionId);
    const state: ClusterState = {
      properties: { kubernetesVersion: DEFAULT_KUBERNETES_VERSION, enableRBAC: true, agentPoolProfiles: [DEFAULT_AGENT_POOL], networkProfile: DEFAULT_NETWORK_PROFILE, ...given, dnsPrefix },
      sku: input.sku ?? { name: 'Base', tier: 'Free' },
      fqdn: `${dnsPrefix.toLowerCase()}-${randomBytes(4).toString('hex')}.hcp.${location}.azmk8s.io`,
      nodeResourceGroup,
      ownedPrincipals: [],
    };
    try {
      if (identityType) {
        await this.createManagedIdentities(state, { id, name, identityType, identity: input.identity, subscriptionId: group.subscriptionId, nodeResourceGroup });
      } else {
        await this.attachServicePrincipal(state, name, properties['servicePrincipalProfile']);
      }
    } catch (err) {
      await this.deletePrincipals(state.ownedPrincipals);
      throw err;
    }
    const record: ResourceRecord<ClusterState> = {
      subscriptionId: group.subscriptionId, resourceGroup: group.name, type: CLUSTER_TYPE, name,
      location, tags: tags ?? {}, state, createdAt: new Date().toISOString(),
    };
    this.store.putResource(record);
    return { cluster: this.view(record), created: true };
  }

  get(subscriptionId: string, resourceGroup: string, name: string): ManagedCluster {
    this.subscriptions.getResourceGroup(subscriptionId, resourceGroup);
    const record = this.store.resource(subscriptionId, resourceGroup, CLUSTER_TYPE, name) as ResourceRecord<ClusterState> | undefined;
    if (!record) throw resourceNotFound(CLUSTER_TYPE, resourceGroup, name);
    return this.view(record);
  }

  list(subscriptionId: string, resourceGroup?: string): ManagedCluster[] {
    return this.subscriptions.resources({ subscriptionId, type: CLUSTER_TYPE, ...(resourceGroup !== undefined ? { resourceGroup } : {}) })
      .map((r) => this.view(r as ResourceRecord<ClusterState>));
  }

  async delete(subscriptionId: string, resourceGroup: string, name: string): Promise<boolean> {
    this.subscriptions.getResourceGroup(subscriptionId, resourceGroup);
    const record = this.store.resource(subscriptionId, resourceGroup, CLUSTER_TYPE, name);
    if (!record) return false;
    await this.deleteRecord(record);
    return true;
  }

  /** Removes the cluster, the principals created for it with their assignments, and assignments at or below it. */
  async deleteRecord(record: ResourceRecord): Promise<void> {
    const state = record.state as ClusterState;
    // The record goes first: a delete running beside this one then sees neither cluster using a shared identity.
    this.store.deleteResource(record.subscriptionId, record.resourceGroup, record.type, record.name);
    await this.deletePrincipals(state.ownedPrincipals);
    await this.rbac.deleteAssignmentsOf({ scopePrefix: resourceId(record.subscriptionId, record.resourceGroup, CLUSTER_TYPE, record.name) });
  }

  /**
   * A kubeconfig for the cluster's user, as listClusterUserCredential returns it. No API server runs here,
   * so it names the cluster's FQDN and nothing answers there; az aks get-credentials can still write it.
   */
  userKubeconfig(cluster: ManagedCluster): string {
    const { name, state } = { name: cluster.record.name, state: cluster.record.state };
    return [
      'apiVersion: v1', 'kind: Config', 'clusters:', '- cluster:', `    server: https://${state.fqdn}:443`, `  name: ${name}`,
      'contexts:', '- context:', `    cluster: ${name}`, `    user: clusterUser_${cluster.record.resourceGroup}_${name}`, `  name: ${name}`,
      `current-context: ${name}`, 'preferences: {}', 'users:', `- name: clusterUser_${cluster.record.resourceGroup}_${name}`, '  user: {}', '',
    ].join('\n');
  }

  private async attachServicePrincipal(state: ClusterState, name: string, profile: unknown): Promise<void> {
    if (profile !== undefined && profile !== null) {
      const { clientId, secret } = checkObject(profile, 'servicePrincipalProfile');
      if (typeof clientId !== 'string' || clientId === 'msi') {
        throw invalidParameter('servicePrincipalProfile.clientId must be the appId of an existing service principal, or leave the profile out to have one created.');
      }
      const principal = await this.identity.principalByAppId(clientId);
      if (!principal) {
        throw new ArmError(400, 'ServicePrincipalNotFound', `Service principal clientID: ${clientId} not found in Active Directory tenant ${this.identity.defaultTenantId}.`);
      }
      state.servicePrincipal = { clientId: principal.appId, objectId: principal.objectId, sealedSecret: typeof secret === 'string' ? this.seal(principal.appId, secret) : null, owned: false };
      return;
    }
    const { principal, password } = await this.identity.createServicePrincipal({ displayName: `${name}SP` });
    state.ownedPrincipals.push(principal.objectId);
    state.servicePrincipal = { clientId: principal.appId, objectId: principal.objectId, sealedSecret: this.seal(principal.appId, password.secretText), owned: true };
  }

  /** The secret of a service-principal cluster's nodes, or null when the cluster has none stored. */
  nodeSecret(cluster: ManagedCluster): string | null {
    const sp = cluster.record.state.servicePrincipal;
    if (!sp?.sealedSecret) return null;
    return this.secrets.unseal(Buffer.from(sp.sealedSecret, 'base64'), secretContext(sp.clientId));
  }

  /** Keeps a new node secret (after a password reset), so that later node configurations reuse it. */
  replaceNodeSecret(cluster: ManagedCluster, secret: string): void {
    const { record } = cluster;
    const sp = record.state.servicePrincipal;
    if (!sp) throw invalidParameter(`cluster ${record.name} has no service principal`);
    this.store.putResource({ ...record, state: { ...record.state, servicePrincipal: { ...sp, sealedSecret: this.seal(sp.clientId, secret) } } });
  }

  private seal(clientId: string, secret: string): string {
    return this.secrets.seal(secret, secretContext(clientId)).toString('base64');
  }

  private async createManagedIdentities(state: ClusterState, c: {
    id: string; name: string; identityType: 'SystemAssigned' | 'UserAssigned'; identity: unknown; subscriptionId: string; nodeResourceGroup: string;
  }): Promise<void> {
    if (c.identityType === 'SystemAssigned') {
      const control = await this.identity.createManagedIdentity({ displayName: c.name, resourceId: c.id });
      state.ownedPrincipals.push(control.objectId);
      state.identity = { type: 'SystemAssigned', principalId: control.objectId, tenantId: control.tenantId };
    } else {
      // There is no Microsoft.ManagedIdentity provider here: the identity a PUT names is made with the first cluster
      // that names it, and other clusters may name it too (deletePrincipals keeps it while one does).
      const named = Object.keys(checkObject((c.identity as { userAssignedIdentities?: unknown }).userAssignedIdentities ?? {}, 'identity.userAssignedIdentities'));
      if (named.length !== 1) throw invalidParameter('identity.userAssignedIdentities must name exactly one identity.');
      const scope = parseScope(named[0]!);
      if (scope.kind !== 'resource' || scope.type.toLowerCase() !== USER_ASSIGNED_IDENTITY_TYPE.toLowerCase() || !scope.name || scope.child.length > 0) {
        throw invalidParameter(`'${named[0]}' in identity.userAssignedIdentities is not the id of a user-assigned identity: use /subscriptions/{id}/resourceGroups/{group}/providers/${USER_ASSIGNED_IDENTITY_TYPE}/{name}.`);
      }
      const control = await this.identity.createManagedIdentity({ displayName: named[0]!.split('/').pop()!, resourceId: named[0]! });
      state.ownedPrincipals.push(control.objectId);
      state.identity = {
        type: 'UserAssigned', principalId: control.objectId, tenantId: control.tenantId,
        userAssignedIdentities: { [named[0]!]: { principalId: control.objectId, clientId: control.appId } },
      };
    }
    const kubeletName = `${c.name}-agentpool`;
    const kubeletResourceId = `/subscriptions/${c.subscriptionId}/resourcegroups/${c.nodeResourceGroup}/providers/${USER_ASSIGNED_IDENTITY_TYPE}/${kubeletName}`;
    const kubelet = await this.identity.createManagedIdentity({ displayName: kubeletName, resourceId: kubeletResourceId });
    state.ownedPrincipals.push(kubelet.objectId);
    state.kubelet = { resourceId: kubeletResourceId, clientId: kubelet.appId, objectId: kubelet.objectId };
  }

  /**
   * Deletes principals made for a cluster (with their role assignments), except those another cluster still uses:
   * a user-assigned identity, or a service principal brought by servicePrincipalProfile, can serve several clusters.
   */
  private async deletePrincipals(objectIds: string[]): Promise<void> {
    const inUse = this.principalsInUse();
    for (const objectId of objectIds) {
      if (inUse.has(objectId)) continue;
      await this.identity.deletePrincipal(objectId);
      await this.rbac.deleteAssignmentsOf({ principalId: objectId });
    }
  }

  /** The object ids of every principal that a stored cluster authenticates with. */
  private principalsInUse(): Set<string> {
    const inUse = new Set<string>();
    for (const { subscriptionId } of this.store.subscriptions()) {
      for (const record of this.store.resources({ subscriptionId, type: CLUSTER_TYPE })) {
        const state = record.state as ClusterState;
        for (const id of [...state.ownedPrincipals, state.identity?.principalId, state.kubelet?.objectId, state.servicePrincipal?.objectId]) {
          if (id) inUse.add(id);
        }
      }
    }
    return inUse;
  }

  private view(record: ResourceRecord<ClusterState>): ManagedCluster {
    return { record, id: resourceId(record.subscriptionId, record.resourceGroup, CLUSTER_TYPE, record.name) };
  }
}

function identityTypeOf(identity: unknown): 'SystemAssigned' | 'UserAssigned' | undefined {
  if (identity === undefined || identity === null) return undefined;
  const type = (checkObject(identity, 'identity') as { type?: unknown }).type;
  if (typeof type !== 'string') throw invalidParameter('identity.type must be SystemAssigned, UserAssigned or None.');
  switch (type.toLowerCase()) {
    case 'systemassigned': return 'SystemAssigned';
    case 'userassigned': return 'UserAssigned';
    case 'none': return undefined;
    default: throw invalidParameter(`identity.type '${type}' is not supported: use SystemAssigned, UserAssigned or None.`);
  }
}

/**
 * The properties a PUT may set, checked as AKS checks them, since they are stored and served back (dnsPrefix also
 * goes into the cluster's FQDN and kubeconfig, and stays what it was made with). Other properties are kept as given.
 */
function checkClusterProperties(given: Record<string, unknown>, currentDnsPrefix: unknown): Record<string, unknown> {
  const { dnsPrefix, kubernetesVersion, agentPoolProfiles, networkProfile, enableRBAC } = given;
  if (currentDnsPrefix !== undefined && dnsPrefix !== undefined && dnsPrefix !== currentDnsPrefix) {
    throw new ArmError(400, 'PropertyChangeNotAllowed', `Changing property 'dnsPrefix' is not allowed: it is '${String(currentDnsPrefix)}'.`);
  }
  if (currentDnsPrefix === undefined && dnsPrefix !== undefined && (typeof dnsPrefix !== 'string' || !DNS_PREFIX.test(dnsPrefix))) {
    throw invalidParameter(`The value of parameter dnsPrefix is invalid: use 1 to 54 letters, digits and hyphens, starting and ending with a letter or digit.`);
  }
  // az aks create sends "" when no version is asked for.
  if (kubernetesVersion !== undefined && kubernetesVersion !== null && kubernetesVersion !== ''
    && (typeof kubernetesVersion !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(kubernetesVersion))) {
    throw invalidParameter(`The value of parameter kubernetesVersion is invalid: use a version such as 1.29 or 1.29.7.`);
  }
  if (agentPoolProfiles !== undefined && agentPoolProfiles !== null) {
    if (!Array.isArray(agentPoolProfiles) || agentPoolProfiles.length === 0) throw invalidParameter('agentPoolProfiles must be a list of at least one agent pool.');
    for (const [i, pool] of agentPoolProfiles.entries()) {
      const { name, count } = checkObject(pool, `agentPoolProfiles[${i}]`);
      if (typeof name !== 'string' || !/^[a-z][a-z0-9]{0,11}$/.test(name)) {
        throw invalidParameter(`agentPoolProfiles[${i}].name must be 1 to 12 lowercase letters and digits, starting with a letter.`);
      }
      if (count !== undefined && count !== null && (!Number.isInteger(count) || (count as number) < 0 || (count as number) > 1000)) {
        throw invalidParameter(`agentPoolProfiles[${i}].count must be a whole number from 0 to 1000.`);
      }
      checkStrings(pool as Record<string, unknown>, ['vmSize', 'osType', 'mode', 'type'], `agentPoolProfiles[${i}]`);
    }
  }
  if (networkProfile !== undefined && networkProfile !== null) checkObject(networkProfile, 'networkProfile');
  if (enableRBAC !== undefined && enableRBAC !== null && typeof enableRBAC !== 'boolean') throw invalidParameter('enableRBAC must be true or false.');
  return given;
}

const DNS_PREFIX = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,52}[a-zA-Z0-9])?$/;

/** az aks create's default: the first 10 characters of the name and 16 of the group that DNS allows, and the subscription's first 6. */
function defaultDnsPrefix(name: string, resourceGroup: string, subscriptionId: string): string {
  let namePart = name.replace(/[^A-Za-z0-9-]/g, '').slice(0, 10);
  if (!/^[A-Za-z]/.test(namePart)) namePart = `a${namePart}`.slice(0, 10);
  const groupPart = resourceGroup.replace(/[^A-Za-z0-9-]/g, '').slice(0, 16);
  return `${namePart}-${groupPart}-${subscriptionId.slice(0, 6)}`;
}

function checkStrings(value: Record<string, unknown>, names: string[], where: string): void {
  for (const n of names) {
    if (value[n] !== undefined && value[n] !== null && typeof value[n] !== 'string') throw invalidParameter(`${where}.${n} must be a string.`);
  }
}

function checkObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameter(`${name} must be an object.`);
  return value as Record<string, unknown>;
}

function secretContext(clientId: string): string {
  return `cluster service principal ${clientId}`;
}
