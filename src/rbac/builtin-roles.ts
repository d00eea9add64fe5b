import type { RoleDefinition } from './types.js';

/**
 * Azure's built-in role definitions that matter to a registry and a cluster, with their real GUIDs, names,
 * descriptions and permissions (Azure built-in roles reference; ACR's roles reference). Clients look them up
 * by name (`roleName eq 'acrpull'`) or by GUID, and scripts hard-code the GUIDs. Roles whose GUID could not be
 * confirmed (the ABAC repository roles) are left out rather than guessed. The createdOn/updatedOn stamps are
 * indicative only: no client reads them.
 */

interface BuiltIn {
  name: string;
  roleName: string;
  description: string;
  actions?: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
  createdOn: string;
  updatedOn: string;
}

const BUILT_INS: BuiltIn[] = [
  {
    name: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    roleName: 'Owner',
    description: 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    actions: ['*'],
    createdOn: '2015-02-02T21:55:09.8806423Z',
    updatedOn: '2021-11-11T20:13:45.8978856Z',
  },
  {
    name: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    roleName: 'Contributor',
    description: 'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
    ],
    createdOn: '2015-02-02T21:55:09.8806423Z',
    updatedOn: '2023-07-10T15:10:53.9517553Z',
  },
  {
    name: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    roleName: 'Reader',
    description: 'View all resources, but does not allow you to make any changes.',
    actions: ['*/read'],
    createdOn: '2015-02-02T21:55:09.8806423Z',
    updatedOn: '2021-11-11T20:13:47.8628684Z',
  },
  {
    name: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    roleName: 'User Access Administrator',
    description: 'Lets you manage user access to Azure resources.',
    actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
    createdOn: '2015-02-02T21:55:09.8806423Z',
    updatedOn: '2021-11-11T20:13:48.8466549Z',
  },
  {
    name: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
    roleName: 'AcrPull',
    description: 'acr pull',
    actions: ['Microsoft.ContainerRegistry/registries/pull/read'],
    createdOn: '2018-10-29T17:52:32.5201177Z',
    updatedOn: '2021-11-11T20:13:07.4993029Z',
  },
  {
    name: '8311e382-0749-4cb8-b61a-304f252e45ec',
    roleName: 'AcrPush',
    description: 'acr push',
    actions: ['Microsoft.ContainerRegistry/registries/pull/read', 'Microsoft.ContainerRegistry/registries/push/write'],
    createdOn: '2018-10-29T17:52:32.5201177Z',
    updatedOn: '2021-11-11T20:13:07.8093029Z',
  },
  {
    name: 'c2f4ef07-c644-48eb-af81-4b1b4947fb11',
    roleName: 'AcrDelete',
    description: 'acr delete',
    actions: ['Microsoft.ContainerRegistry/registries/artifacts/delete'],
    createdOn: '2019-03-11T20:24:38.9845104Z',
    updatedOn: '2021-11-11T20:13:07.0933029Z',
  },
  {
    name: '6cef56e8-d556-48e5-a04f-b8e64114680f',
    roleName: 'AcrImageSigner',
    description: 'acr image signer',
    actions: ['Microsoft.ContainerRegistry/registries/sign/write'],
    dataActions: ['Microsoft.ContainerRegistry/registries/trustedCollections/write'],
    createdOn: '2018-03-15T23:23:08.4038322Z',
    updatedOn: '2021-11-11T20:13:07.3993029Z',
  },
  {
    name: 'cdda3590-29a3-44f6-95f2-9f980659eb04',
    roleName: 'AcrQuarantineReader',
    description: 'acr quarantine data reader',
    actions: ['Microsoft.ContainerRegistry/registries/quarantine/read'],
    dataActions: ['Microsoft.ContainerRegistry/registries/quarantinedArtifacts/read'],
    createdOn: '2018-03-16T00:27:39.9596835Z',
    updatedOn: '2021-11-11T20:13:08.1013029Z',
  },
  {
    name: 'c8d4ff99-41c3-41a8-9f60-21dfdad59608',
    roleName: 'AcrQuarantineWriter',
    description: 'acr quarantine data writer',
    actions: ['Microsoft.ContainerRegistry/registries/quarantine/read', 'Microsoft.ContainerRegistry/registries/quarantine/write'],
    dataActions: ['Microsoft.ContainerRegistry/registries/quarantinedArtifacts/read', 'Microsoft.ContainerRegistry/registries/quarantinedArtifacts/write'],
    createdOn: '2018-03-16T00:26:37.5871820Z',
    updatedOn: '2021-11-11T20:13:08.4013029Z',
  },
];

export const BUILTIN_ROLES: readonly RoleDefinition[] = BUILT_INS.map((r) => ({
  name: r.name,
  roleName: r.roleName,
  description: r.description,
  type: 'BuiltInRole',
  permissions: [{
    actions: r.actions ?? [],
    notActions: r.notActions ?? [],
    dataActions: r.dataActions ?? [],
    notDataActions: r.notDataActions ?? [],
  }],
  assignableScopes: ['/'],
  createdOn: r.createdOn,
  updatedOn: r.updatedOn,
}));

/** GUIDs other planes name directly (the demo environment, tests). */
export const ROLE_IDS = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  acrDelete: 'c2f4ef07-c644-48eb-af81-4b1b4947fb11',
  acrImageSigner: '6cef56e8-d556-48e5-a04f-b8e64114680f',
} as const;
