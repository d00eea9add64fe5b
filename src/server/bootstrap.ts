import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIRECTORY_WRITER_ROLE } from '../identity/types.js';
import { ROLE_IDS } from '../rbac/builtin-roles.js';
import { subscriptionResourceId } from '../arm/resource-ids.js';
import type { Anchorage } from './anchorage.js';

/** The demo environment's names: those of the seed's own examples. */
export const DEMO = {
  subscriptionName: 'Anchorage',
  location: 'eastus',
  resourceGroup: 'myResourceGroup',
  registry: 'myContainerRegistry',
  cluster: 'myAKSCluster',
  adminName: 'anchorage-admin',
} as const;

/** What a fresh data folder starts with, and how to reach it; written to `bootstrap.json` (mode 0600: it holds a secret). */
export interface BootstrapInfo {
  tenantId: string;
  subscriptionId: string;
  /** The tenant authority (`authorityHost` + tenant for MSAL and @azure/identity). */
  authority: string;
  armEndpoint: string;
  graphEndpoint: string;
  caCertPath: string | null;
  admin: { appId: string; password: string };
  demo: { resourceGroup: string; registry: string; loginServer: string; cluster: string };
}

export function bootstrapPath(dataDir: string): string {
  return join(dataDir, 'bootstrap.json');
}

/**
 * First start: the subscription, an administrator service principal (Owner at the subscription, directory
 * writer), and the seed's environment: a resource group, a registry and a cluster with its own service
 * principal and no AcrPull yet (granting it is the seed's script). Idempotent: with `bootstrap.json` present
 * it only reads it back; an interrupted run is finished by the next, reusing what it had made (except the
 * administrator, whose password was never written down). Registries made outside the resource manager
 * (`anchorage registry create`) are placed in the demo resource group on every start.
 */
export async function bootstrap(app: Anchorage, options: { caCertPath: string | null }): Promise<{ info: BootstrapInfo; created: boolean }> {
  const { arm, identity, rbac, config } = app;
  const file = bootstrapPath(config.dataDir);
  if (existsSync(file)) {
    const info = JSON.parse(readFileSync(file, 'utf8')) as BootstrapInfo;
    await adoptRegistries(app, info.subscriptionId, info.demo.resourceGroup);
    return { info, created: false };
  }

  const tenantId = identity.defaultTenantId;
  const subscriptionId = arm.subscriptions.list()[0]?.subscriptionId ?? randomUUID();
  arm.subscriptions.ensureSubscription({ subscriptionId, displayName: DEMO.subscriptionName, tenantId, state: 'Enabled' });

  const admin = await identity.createServicePrincipal({ displayName: DEMO.adminName, directoryRoles: [DIRECTORY_WRITER_ROLE] });
  await rbac.createAssignment({
    name: randomUUID(), scope: subscriptionResourceId(subscriptionId), roleDefinitionName: ROLE_IDS.owner,
    principalId: admin.principal.objectId, principalType: 'ServicePrincipal', description: 'Anchorage administrator',
  });

  arm.subscriptions.putResourceGroup({ subscriptionId, name: DEMO.resourceGroup, location: DEMO.location });
  const registry = (await arm.registries.put(subscriptionId, DEMO.resourceGroup, DEMO.registry, { location: DEMO.location, sku: { name: 'Standard' } })).registry;
  await arm.clusters.put(subscriptionId, DEMO.resourceGroup, DEMO.cluster, {
    location: DEMO.location, properties: { dnsPrefix: DEMO.cluster.toLowerCase() },
  });
  await adoptRegistries(app, subscriptionId, DEMO.resourceGroup);

  const info: BootstrapInfo = {
    tenantId,
    subscriptionId,
    authority: `${config.publicUrl}/${tenantId}`,
    armEndpoint: `${config.publicUrl}/`,
    graphEndpoint: `${config.publicUrl}/`,
    caCertPath: options.caCertPath,
    admin: { appId: admin.principal.appId, password: admin.password.secretText },
    demo: { resourceGroup: DEMO.resourceGroup, registry: registry.registry.name, loginServer: registry.registry.loginServer, cluster: DEMO.cluster },
  };
  // Written whole and renamed into place, so a crash never leaves half a file that the next start would trust.
  const partial = `${file}.partial`;
  writeFileSync(partial, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
  return { info, created: true };
}

/** The seed's variables, as shell exports. */
export function seedExports(info: BootstrapInfo): string[] {
  return [
    `export AKS_RESOURCE_GROUP=${info.demo.resourceGroup}`,
    `export AKS_CLUSTER_NAME=${info.demo.cluster}`,
    `export ACR_NAME=${info.demo.registry}`,
    `export ACR_RESOURCE_GROUP=${info.demo.resourceGroup}`,
  ];
}

async function adoptRegistries(app: Anchorage, subscriptionId: string, resourceGroup: string): Promise<void> {
  for (const registry of await app.registries.list()) await app.arm.registries.adopt(registry, subscriptionId, resourceGroup);
}
