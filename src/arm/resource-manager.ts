import type { IdentityService } from '../identity/types.js';
import type { Rbac } from '../rbac/types.js';
import type { RegistryAccessService } from '../registry/access/types.js';
import type { RegistryDirectory } from '../registry/registries.js';
import type { CloudEndpointsInput } from './cloud-metadata.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { ManagedClusterService } from './clusters.js';
import { ArmRegistryService } from './registries.js';
import type { ResourceStore } from './resource-store.js';
import { RoleAssignmentService } from './role-assignments.js';
import { SubscriptionService } from './subscriptions.js';

/** The resource manager's services over one store, wired to the planes they stand on. */
export class ResourceManager {
  readonly subscriptions: SubscriptionService;
  readonly registries: ArmRegistryService;
  readonly clusters: ManagedClusterService;
  readonly roleAssignments: RoleAssignmentService;

  constructor(
    private readonly store: ResourceStore,
    readonly identity: IdentityService,
    readonly rbac: Rbac,
    directory: RegistryDirectory,
    /** The admin user, scope maps and tokens; absent until src/registry/access is wired in. */
    access: RegistryAccessService | undefined,
    secrets: SecretBox,
    readonly cloud: CloudEndpointsInput,
  ) {
    this.subscriptions = new SubscriptionService(store, rbac);
    this.registries = new ArmRegistryService(store, this.subscriptions, directory, rbac, access);
    this.clusters = new ManagedClusterService(store, this.subscriptions, identity, rbac, secrets);
    this.roleAssignments = new RoleAssignmentService(rbac, identity, store, this.subscriptions);
    this.subscriptions.registerType(this.registries);
    this.subscriptions.registerType(this.clusters);
  }

  close(): void {
    this.store.close();
  }
}
