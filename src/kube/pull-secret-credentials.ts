import { randomUUID } from 'node:crypto';
import { ROLE_IDS } from '../rbac/builtin-roles.js';
import type { Anchorage } from '../server/anchorage.js';
import type { RegistryLogin } from './docker-config.js';

/** Where a pull secret's credentials come from. */
export type CredentialSourceInput =
  | { kind: 'existing'; login: RegistryLogin }
  /** A new service principal with AcrPull on the registry: the seed's `az ad sp create-for-rbac --role acrpull --scopes <registry>`. */
  | { kind: 'servicePrincipal'; displayName: string; years: number; email?: string | undefined }
  /** A repository-scoped token: a scope map granting content/read and metadata/read on the repositories, and a token with a password. */
  | { kind: 'repositoryToken'; tokenName: string; repositories: string[]; years: number; email?: string | undefined };

export interface PullSecretCredentials {
  loginServer: string;
  login: RegistryLogin;
  /** When the credential stops working, as far as the server knows; null when it never expires or is not the server's. */
  expires: string | null;
  /** One line for each thing made on the server. */
  created: string[];
}

export class PullSecretError extends Error {}

export async function pullSecretCredentials(app: Anchorage, registryName: string, source: CredentialSourceInput): Promise<PullSecretCredentials> {
  const registry = await app.registries.get(registryName);
  const scope = registry.resourceId;
  switch (source.kind) {
    case 'existing':
      return { loginServer: registry.loginServer, login: source.login, expires: await existingExpiry(app, source.login), created: [] };
    case 'servicePrincipal': {
      if (!scope) throw new PullSecretError(`registry ${registry.name} is not placed in a resource group yet: start the server once so that role assignments can be made on it`);
      const { principal, password } = await app.identity.createServicePrincipal({ displayName: source.displayName, passwordYears: source.years });
      await app.rbac.createAssignment({
        name: randomUUID(), scope, roleDefinitionName: ROLE_IDS.acrPull, principalId: principal.objectId, principalType: 'ServicePrincipal',
        description: `pull secret for ${registry.loginServer}`,
      });
      return {
        loginServer: registry.loginServer,
        login: { username: principal.appId, password: password.secretText, email: source.email },
        expires: password.endDateTime,
        created: [`service principal ${principal.displayName} (appId ${principal.appId}) with AcrPull on ${scope}`],
      };
    }
    case 'repositoryToken': {
      const actions = source.repositories.flatMap((r) => [`repositories/${r}/content/read`, `repositories/${r}/metadata/read`]);
      const scopeMap = `${source.tokenName}-scope`;
      await app.access.putScopeMap(registry.name, { name: scopeMap, description: `pull from ${source.repositories.join(', ')}`, actions });
      await app.access.putToken(registry.name, { name: source.tokenName, scopeMapName: scopeMap, status: 'enabled' });
      const expiry = new Date(Date.now() + source.years * 365.25 * 86_400_000).toISOString();
      const generated = await app.access.generateTokenCredentials(registry.name, source.tokenName, { name: 'password1', expiry });
      const password = generated.passwords.find((p) => p.name === 'password1') ?? generated.passwords[0];
      if (!password) throw new PullSecretError(`registry ${registry.name} generated no password for token ${source.tokenName}`);
      return {
        loginServer: registry.loginServer,
        login: { username: generated.username, password: password.value, email: source.email },
        expires: password.expiry,
        created: [`token ${source.tokenName} on ${registry.name} with scope map ${scopeMap}: ${actions.join(', ')}`],
      };
    }
  }
}

/**
 * For an application's secret: the end date of its password whose hint (the first three characters) matches,
 * when exactly one does. Other credentials (admin user, tokens, refresh tokens) are not looked up.
 */
async function existingExpiry(app: Anchorage, login: RegistryLogin): Promise<string | null> {
  const principal = await app.identity.principalByAppId(login.username);
  if (!principal) return null;
  const page = await app.identity.directory(principal.tenantId).listApplications({ filter: { appId: principal.appId }, top: 1 });
  const matching = page.items[0]?.passwordCredentials.filter((p) => login.password.startsWith(p.hint)) ?? [];
  return matching.length === 1 ? matching[0]!.endDateTime : null;
}
