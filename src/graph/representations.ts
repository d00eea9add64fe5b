import type { Application, NewPassword, PasswordCredential, ServicePrincipal } from '../identity/types.js';

/** Directory objects in Microsoft Graph v1.0's JSON shapes (the properties clients read, and their neighbours). */

export const ODATA_TYPE = {
  application: '#microsoft.graph.application',
  servicePrincipal: '#microsoft.graph.servicePrincipal',
} as const;

export function passwordCredentialJson(p: PasswordCredential | NewPassword): Record<string, unknown> {
  return {
    customKeyIdentifier: null,
    displayName: p.displayName,
    endDateTime: p.endDateTime,
    hint: p.hint,
    keyId: p.keyId,
    secretText: 'secretText' in p ? p.secretText : null,
    startDateTime: p.startDateTime,
  };
}

export function applicationJson(app: Application): Record<string, unknown> {
  return {
    id: app.id,
    deletedDateTime: null,
    appId: app.appId,
    createdDateTime: app.createdDateTime,
    description: app.description,
    displayName: app.displayName,
    identifierUris: app.identifierUris,
    publisherDomain: null,
    signInAudience: app.signInAudience,
    tags: [],
    api: { requestedAccessTokenVersion: null, oauth2PermissionScopes: [], preAuthorizedApplications: [] },
    appRoles: [],
    keyCredentials: [],
    passwordCredentials: app.passwordCredentials.map(passwordCredentialJson),
    publicClient: { redirectUris: [] },
    requiredResourceAccess: [],
    spa: { redirectUris: [] },
    web: { homePageUrl: null, logoutUrl: null, redirectUris: [], implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false } },
  };
}

export function servicePrincipalJson(sp: ServicePrincipal): Record<string, unknown> {
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: sp.accountEnabled,
    alternativeNames: sp.alternativeNames,
    appDisplayName: sp.servicePrincipalType === 'Application' ? sp.displayName : null,
    appId: sp.appId,
    appOwnerOrganizationId: sp.tenantId,
    appRoleAssignmentRequired: false,
    createdDateTime: sp.createdDateTime,
    description: null,
    displayName: sp.displayName,
    servicePrincipalNames: sp.servicePrincipalNames,
    servicePrincipalType: sp.servicePrincipalType,
    signInAudience: sp.servicePrincipalType === 'Application' ? 'AzureADMyOrg' : null,
    tags: [],
    appRoles: [],
    keyCredentials: [],
    oauth2PermissionScopes: [],
    passwordCredentials: sp.passwordCredentials.map(passwordCredentialJson),
    replyUrls: [],
  };
}
