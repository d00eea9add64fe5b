/**
 * Registry-level credentials ACR manages besides Entra identities: the admin user, scope maps and
 * repository-scoped tokens. The resource manager's registry handlers (listCredentials, regenerateCredential,
 * scopeMaps, tokens, generateCredentials) call this; the token service checks credentials through it.
 */

/** ACR's scope map actions, e.g. "repositories/app/content/read" or "repositories/team/*\/content/write". */
export type ScopeMapAction = string;

export interface AdminCredentials {
  username: string;
  passwords: Array<{ name: 'password' | 'password2'; value: string }>;
}

export interface ScopeMap {
  name: string;
  description: string | null;
  actions: ScopeMapAction[];
  type: 'SystemDefined' | 'UserDefined';
  createdAt: string;
}

export interface RegistryTokenInfo {
  name: string;
  scopeMapName: string;
  status: 'enabled' | 'disabled';
  passwords: Array<{ name: 'password1' | 'password2'; creationTime: string; expiry: string | null }>;
  createdAt: string;
}

export interface GeneratedTokenCredentials {
  username: string;
  passwords: Array<{ name: 'password1' | 'password2'; value: string; creationTime: string; expiry: string | null }>;
}

export class AccessError extends Error {
  constructor(readonly code: 'NotFound' | 'Conflict' | 'InvalidInput' | 'AdminUserDisabled', message: string) {
    super(message);
  }
}

export interface RegistryAccessService {
  /** Enabling generates the two admin passwords the first time. */
  setAdminUserEnabled(registry: string, enabled: boolean): Promise<void>;
  adminUserEnabled(registry: string): Promise<boolean>;
  /** Throws AccessError AdminUserDisabled when the admin user is off, as ACR does. */
  adminCredentials(registry: string): Promise<AdminCredentials>;
  regenerateAdminPassword(registry: string, name: 'password' | 'password2'): Promise<AdminCredentials>;

  putScopeMap(registry: string, map: { name: string; description?: string | null; actions: ScopeMapAction[] }): Promise<ScopeMap>;
  scopeMap(registry: string, name: string): Promise<ScopeMap | undefined>;
  listScopeMaps(registry: string): Promise<ScopeMap[]>;
  deleteScopeMap(registry: string, name: string): Promise<boolean>;

  putToken(registry: string, token: { name: string; scopeMapName: string; status?: 'enabled' | 'disabled' }): Promise<RegistryTokenInfo>;
  token(registry: string, name: string): Promise<RegistryTokenInfo | undefined>;
  listTokens(registry: string): Promise<RegistryTokenInfo[]>;
  deleteToken(registry: string, name: string): Promise<boolean>;
  generateTokenCredentials(registry: string, token: string, input: { name?: 'password1' | 'password2'; expiry?: string }): Promise<GeneratedTokenCredentials>;
}
