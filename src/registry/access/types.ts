/**
 * Registry-level credentials ACR manages besides Entra identities: the admin user, scope maps and
 * repository-scoped tokens. The resource manager's registry handlers (listCredentials, regenerateCredential,
 * scopeMaps, tokens, generateCredentials) call this; the token service checks credentials through it.
 */

import type { RegistryRecord } from '../metadata.js';

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

/** A registry-level credential that checked out: what the token service grants from. */
export type RegistryCredential =
  | { kind: 'admin'; username: string; password: 'password' | 'password2'; issuedAt: string }
  | { kind: 'token'; username: string; password: 'password1' | 'password2'; issuedAt: string; scopeMap: string; actions: ScopeMapAction[] };

/** Which credential a refresh token was obtained with, so that regenerating or disabling it ends the refresh token too. */
export type CredentialStamp = Pick<RegistryCredential, 'kind' | 'username' | 'password' | 'issuedAt'>;

/** Checks the admin user's and repository tokens' passwords: the token service's side of RegistryAccessService. */
export interface RegistryCredentials {
  /**
   * The enabled admin user or enabled, unexpired repository token the username names, if the password is one of
   * its own; `refused` (with the reason) when the username is one of them but the password or its state is not;
   * undefined when the username is neither (it may be an application id).
   */
  verifyPassword(registry: RegistryRecord, username: string, password: string): Promise<RegistryCredential | { refused: string } | undefined>;
  /** The credential as it is now, if it is still in force exactly as stamped (not regenerated, disabled, expired or deleted). */
  recheck(registry: RegistryRecord, stamp: CredentialStamp): Promise<RegistryCredential | undefined>;
}
