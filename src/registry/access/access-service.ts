import { RegistryError } from '../errors.js';
import type { RegistryRecord } from '../metadata.js';
import type { RegistryDirectory } from '../registries.js';
import { checkAccessName, checkScopeMapActions, isSystemScopeMapName, systemScopeMaps } from './scope-maps.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { hashSecret, secretMatches } from '../../crypto/secret-hash.js';
import { newRegistryPassword } from './secrets.js';
import type { SqliteAccessStore, TokenRow } from './sqlite-access-store.js';
import {
  AccessError, type AdminCredentials, type CredentialStamp, type GeneratedTokenCredentials, type RegistryAccessService,
  type RegistryCredential, type RegistryCredentials, type RegistryTokenInfo, type ScopeMap, type ScopeMapAction,
} from './types.js';

const ADMIN_PASSWORDS = ['password', 'password2'] as const;
const TOKEN_PASSWORDS = ['password1', 'password2'] as const;

/**
 * ACR's admin user, scope maps and repository-scoped tokens over their SQLite tables.
 * Token passwords are shown once and kept as salted hashes. Admin passwords are kept as salted hashes for
 * checking AND sealed with the data folder's key (SecretBox), because listCredentials shows them again, as ACR does.
 */
export class RegistryAccess implements RegistryAccessService, RegistryCredentials {
  constructor(private readonly store: SqliteAccessStore, private readonly box: SecretBox, private readonly directory: RegistryDirectory) {}

  async setAdminUserEnabled(registry: string, enabled: boolean): Promise<void> {
    const r = await this.registry(registry);
    // The passwords are made when the admin user is first enabled, and kept while it is off.
    const fresh = enabled && this.store.adminPasswords(r.id).length === 0 ? ADMIN_PASSWORDS.map((name) => this.newAdminPassword(r, name).row) : [];
    this.store.setAdminEnabled(r.id, enabled, fresh);
  }

  async adminUserEnabled(registry: string): Promise<boolean> {
    return this.store.adminEnabled((await this.registry(registry)).id) === true;
  }

  async adminCredentials(registry: string): Promise<AdminCredentials> {
    const r = await this.enabledAdmin(registry);
    return {
      username: r.name,
      passwords: this.store.adminPasswords(r.id).map((p) => ({ name: p.name, value: this.box.unseal(p.sealed, sealContext(r, p.name)) })),
    };
  }

  async regenerateAdminPassword(registry: string, name: 'password' | 'password2'): Promise<AdminCredentials> {
    const r = await this.enabledAdmin(registry);
    this.store.putAdminPassword(r.id, this.newAdminPassword(r, name).row);
    return this.adminCredentials(registry);
  }

  async putScopeMap(registry: string, map: { name: string; description?: string | null; actions: ScopeMapAction[] }): Promise<ScopeMap> {
    const r = await this.registry(registry);
    if (isSystemScopeMapName(map.name)) throw new AccessError('InvalidInput', `The scope map '${map.name}' is system defined and cannot be changed.`);
    checkAccessName('scope map', map.name);
    const existing = this.store.scopeMap(r.id, map.name);
    this.store.putScopeMap(r.id, { name: existing?.name ?? map.name, description: map.description ?? null, actions: checkScopeMapActions(map.actions) });
    return (await this.scopeMap(registry, map.name))!;
  }

  async scopeMap(registry: string, name: string): Promise<ScopeMap | undefined> {
    const r = await this.registry(registry);
    const system = systemScopeMaps(r.createdAt).find((m) => m.name.toLowerCase() === name.toLowerCase());
    if (system) return system;
    const row = this.store.scopeMap(r.id, name);
    return row && { name: row.name, description: row.description, actions: JSON.parse(row.actions) as string[], type: 'UserDefined', createdAt: row.created_at };
  }

  async listScopeMaps(registry: string): Promise<ScopeMap[]> {
    const r = await this.registry(registry);
    return [
      ...systemScopeMaps(r.createdAt),
      ...this.store.scopeMaps(r.id).map((row): ScopeMap => ({
        name: row.name, description: row.description, actions: JSON.parse(row.actions) as string[], type: 'UserDefined', createdAt: row.created_at,
      })),
    ];
  }

  async deleteScopeMap(registry: string, name: string): Promise<boolean> {
    const r = await this.registry(registry);
    if (isSystemScopeMapName(name)) throw new AccessError('InvalidInput', `The scope map '${name}' is system defined and cannot be deleted.`);
    const result = this.store.deleteScopeMap(r.id, name);
    if (result === 'in-use') throw new AccessError('Conflict', `The scope map '${name}' is used by a token; delete the token or give it another scope map first.`);
    return result === 'deleted';
  }

  async putToken(registry: string, token: { name: string; scopeMapName: string; status?: 'enabled' | 'disabled' }): Promise<RegistryTokenInfo> {
    const r = await this.registry(registry);
    checkAccessName('token', token.name);
    // The admin user's username is the registry's name: a token of that name could not be told apart.
    if (token.name.toLowerCase() === r.name) throw new AccessError('Conflict', `A token cannot be named like the registry '${r.name}', whose admin user has that username.`);
    const map = await this.scopeMap(registry, token.scopeMapName);
    if (!map) throw new AccessError('NotFound', `The scope map '${token.scopeMapName}' does not exist in registry ${r.name}.`);
    const existing = this.store.token(r.id, token.name);
    const enabled = token.status === undefined ? (existing ? existing.enabled === 1 : true) : token.status === 'enabled';
    this.store.putToken(r.id, { name: existing?.name ?? token.name, scopeMapName: map.name, enabled });
    return this.tokenInfo(r, this.store.token(r.id, token.name)!);
  }

  async token(registry: string, name: string): Promise<RegistryTokenInfo | undefined> {
    const r = await this.registry(registry);
    const row = this.store.token(r.id, name);
    return row && this.tokenInfo(r, row);
  }

  async listTokens(registry: string): Promise<RegistryTokenInfo[]> {
    const r = await this.registry(registry);
    return this.store.tokens(r.id).map((row) => this.tokenInfo(r, row));
  }

  async deleteToken(registry: string, name: string): Promise<boolean> {
    return this.store.deleteToken((await this.registry(registry)).id, name);
  }

  async generateTokenCredentials(registry: string, token: string, input: { name?: 'password1' | 'password2'; expiry?: string }): Promise<GeneratedTokenCredentials> {
    const r = await this.registry(registry);
    const row = this.store.token(r.id, token);
    if (!row) throw new AccessError('NotFound', `The token '${token}' does not exist in registry ${r.name}.`);
    const expiry = input.expiry === undefined ? null : new Date(input.expiry).toISOString();
    if (expiry !== null && Date.parse(expiry) <= Date.now()) throw new AccessError('InvalidInput', 'The expiry must be in the future.');
    const createdAt = new Date().toISOString();
    const passwords = (input.name ? [input.name] : TOKEN_PASSWORDS).map((name) => ({ name, value: newRegistryPassword(), creationTime: createdAt, expiry }));
    this.store.putTokenPasswords(r.id, row.name, passwords.map((p) => ({ name: p.name, createdAt, expiry, ...hashSecret(p.value) })));
    return { username: row.name, passwords };
  }

  async verifyPassword(registry: RegistryRecord, username: string, password: string): Promise<RegistryCredential | { refused: string } | undefined> {
    const now = Date.now();
    if (username.toLowerCase() === registry.name) {
      const enabled = this.store.adminEnabled(registry.id);
      if (enabled === undefined) return undefined;
      // Every password is compared, so the time taken does not tell which one matched.
      const matched = this.store.adminPasswords(registry.id).filter((p) => secretMatches(password, p))[0];
      if (!enabled) return { refused: `the admin user of registry ${registry.name} is disabled` };
      if (!matched) return { refused: `wrong password for the admin user of registry ${registry.name}` };
      return { kind: 'admin', username: registry.name, password: matched.name, issuedAt: matched.created_at };
    }
    const token = this.store.token(registry.id, username);
    if (!token) return undefined;
    const matched = this.store.tokenPasswords(registry.id, token.name).filter((p) => secretMatches(password, p))[0];
    if (!matched) return { refused: `wrong password for token ${token.name} of registry ${registry.name}` };
    if (token.enabled !== 1) return { refused: `token ${token.name} of registry ${registry.name} is disabled` };
    if (matched.expiry !== null && Date.parse(matched.expiry) <= now) return { refused: `the password ${matched.name} of token ${token.name} expired at ${matched.expiry}` };
    return this.tokenCredential(registry, token, matched.name, matched.created_at);
  }

  async recheck(registry: RegistryRecord, stamp: CredentialStamp): Promise<RegistryCredential | undefined> {
    if (stamp.kind === 'admin') {
      if (this.store.adminEnabled(registry.id) !== true) return undefined;
      const p = this.store.adminPasswords(registry.id).find((row) => row.name === stamp.password);
      return p && p.created_at === stamp.issuedAt ? { kind: 'admin', username: registry.name, password: p.name, issuedAt: p.created_at } : undefined;
    }
    const token = this.store.token(registry.id, stamp.username);
    if (!token || token.enabled !== 1) return undefined;
    const p = this.store.tokenPasswords(registry.id, token.name).find((row) => row.name === stamp.password);
    if (!p || p.created_at !== stamp.issuedAt || (p.expiry !== null && Date.parse(p.expiry) <= Date.now())) return undefined;
    return this.tokenCredential(registry, token, p.name, p.created_at);
  }

  private async tokenCredential(registry: RegistryRecord, token: TokenRow, password: 'password1' | 'password2', issuedAt: string): Promise<RegistryCredential | undefined> {
    const map = await this.scopeMap(registry.name, token.scope_map_name);
    if (!map) return undefined;
    return { kind: 'token', username: token.name, password, issuedAt, scopeMap: map.name, actions: map.actions };
  }

  private tokenInfo(r: RegistryRecord, row: TokenRow): RegistryTokenInfo {
    return {
      name: row.name, scopeMapName: row.scope_map_name, status: row.enabled === 1 ? 'enabled' : 'disabled', createdAt: row.created_at,
      passwords: this.store.tokenPasswords(r.id, row.name).map((p) => ({ name: p.name, creationTime: p.created_at, expiry: p.expiry })),
    };
  }

  private newAdminPassword(r: RegistryRecord, name: 'password' | 'password2') {
    const value = newRegistryPassword();
    return { value, row: { name, sealed: this.box.seal(value, sealContext(r, name)), ...hashSecret(value) } };
  }

  private async enabledAdmin(registry: string): Promise<RegistryRecord> {
    const r = await this.registry(registry);
    if (this.store.adminEnabled(r.id) !== true) {
      throw new AccessError('AdminUserDisabled', `The admin user of registry ${r.name} is disabled; enable it first.`);
    }
    return r;
  }

  private async registry(name: string): Promise<RegistryRecord> {
    try {
      return await this.directory.get(name);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'NAME_UNKNOWN') throw new AccessError('NotFound', `The registry ${name} does not exist.`);
      throw err;
    }
  }
}

/** Binds a sealed admin password to its registry (by id, which a registry made again under the same name does not reuse) and name. */
function sealContext(r: RegistryRecord, name: string): string {
  return `admin:${r.id}:${name}`;
}
