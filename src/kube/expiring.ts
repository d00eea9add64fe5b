import type { Anchorage } from '../server/anchorage.js';

export interface CarriedRole {
  role: string;
  scope: string;
}

export type ExpiringCredential =
  | { kind: 'password'; appId: string; displayName: string; keyId: string; hint: string; endDateTime: string; expired: boolean; roles: CarriedRole[] }
  | { kind: 'registryToken'; registry: string; loginServer: string; token: string; password: string; endDateTime: string; expired: boolean; scopeMap: string; actions: string[] };

/**
 * Credentials that stop working before `before`: service principal passwords, with the role assignments they
 * carry (what breaks when they lapse), and repository-token passwords, with the scope map actions they carry.
 * Soonest first; already expired ones included, since they are what pulls are failing on now.
 */
export async function expiringCredentials(app: Anchorage, before: Date, now = new Date()): Promise<ExpiringCredential[]> {
  const found: ExpiringCredential[] = [];
  const roleNames = new Map((await app.rbac.roleDefinitions()).map((r) => [r.name, r.roleName]));
  for (const { principal, password } of await app.identity.expiringPasswords(before)) {
    const assignments = await app.rbac.listAssignments({ scope: '/', mode: 'atAndBelow', principalId: principal.objectId });
    found.push({
      kind: 'password', appId: principal.appId, displayName: principal.displayName, keyId: password.keyId, hint: password.hint,
      endDateTime: password.endDateTime, expired: Date.parse(password.endDateTime) <= now.getTime(),
      roles: assignments.map((a) => ({ role: roleNames.get(a.roleDefinitionName) ?? a.roleDefinitionName, scope: a.scope })),
    });
  }
  for (const registry of await app.registries.list()) {
    for (const token of await app.access.listTokens(registry.name)) {
      const scopeMap = await app.access.scopeMap(registry.name, token.scopeMapName);
      for (const password of token.passwords) {
        if (password.expiry === null || Date.parse(password.expiry) >= before.getTime()) continue;
        found.push({
          kind: 'registryToken', registry: registry.name, loginServer: registry.loginServer, token: token.name, password: password.name,
          endDateTime: password.expiry, expired: Date.parse(password.expiry) <= now.getTime(),
          scopeMap: token.scopeMapName, actions: scopeMap?.actions ?? [],
        });
      }
    }
  }
  return found.sort((a, b) => Date.parse(a.endDateTime) - Date.parse(b.endDateTime));
}
