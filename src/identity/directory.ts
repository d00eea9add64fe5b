import { randomUUID } from 'node:crypto';
import { hashSecret } from '../crypto/secret-hash.js';
import { newClientSecret, secretHint } from './secrets.js';
import type { ApplicationRow, PasswordRow, ServicePrincipalRow, SqliteIdentityStore } from './sqlite-store.js';
import {
  DirectoryError, type Application, type ApplicationFilter, type CredentialOwner, type Directory, type DirectoryObject,
  type ListPage, type ListQuery, type NewPassword, type ServicePrincipal, type ServicePrincipalFilter,
} from './types.js';

const SIGN_IN_AUDIENCES = ['AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount'];
const MAX_DISPLAY_NAME = 256;
/** Graph's default lifetime for a password added without an end date. */
const DEFAULT_PASSWORD_YEARS = 2;
/**
 * A display name that reads as a URL, as `az ad sp create-for-rbac --name http://NAME` gives. Before Graph, such
 * a name became a service principal name, and scripts (the seed's among them) still look principals up by it.
 */
const LEGACY_URL_NAME = /^https?:\/\/\S+$/i;

/** The names a service principal is found by: its appId, its application's identifier URIs, and a URL-like display name. */
export function servicePrincipalNames(appId: string, displayName: string, identifierUris: string[]): string[] {
  const names = [...identifierUris, appId];
  if (LEGACY_URL_NAME.test(displayName) && !names.some((n) => n.toLowerCase() === displayName.toLowerCase())) names.push(displayName);
  return names;
}

function validDisplayName(name: string): string {
  if (name.trim() === '' || name.length > MAX_DISPLAY_NAME) {
    throw new DirectoryError('InvalidInput', `displayName must be 1 to ${MAX_DISPLAY_NAME} characters`);
  }
  return name;
}

function validSignInAudience(audience: string): string {
  if (!SIGN_IN_AUDIENCES.includes(audience)) {
    throw new DirectoryError('InvalidInput', `signInAudience must be one of ${SIGN_IN_AUDIENCES.join(', ')}`);
  }
  return audience;
}

/** Graph's dates are ISO 8601 within years 1 to 9999 (a `+275760-...` date parses, but no client can read it back). */
const LAST_DATE = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function validDate(value: string, property: string): Date {
  const date = new Date(value);
  if (typeof value !== 'string' || Number.isNaN(date.getTime())) throw new DirectoryError('InvalidInput', `${property} ${JSON.stringify(value)} is not a date`);
  if (date.getTime() > LAST_DATE || date.getUTCFullYear() < 1) throw new DirectoryError('InvalidInput', `${property} ${JSON.stringify(value)} is outside years 1 to 9999`);
  return date;
}

/** A password ready to store (hashed) for `owner`, and the one-time answer that carries its secret. */
export function preparePassword(appId: string, owner: CredentialOwner, input: { displayName?: string | null; startDateTime?: string; endDateTime?: string }): { row: PasswordRow; password: NewPassword } {
  const start = input.startDateTime === undefined ? new Date() : validDate(input.startDateTime, 'startDateTime');
  const end = input.endDateTime === undefined
    ? new Date(new Date(start).setUTCFullYear(start.getUTCFullYear() + DEFAULT_PASSWORD_YEARS))
    : validDate(input.endDateTime, 'endDateTime');
  if (end <= start) throw new DirectoryError('InvalidInput', 'endDateTime must be after startDateTime');
  const secretText = newClientSecret();
  const { salt, hash } = hashSecret(secretText);
  const row: PasswordRow = {
    key_id: randomUUID(), app_id: appId,
    application_id: owner.kind === 'application' ? owner.id : null,
    service_principal_id: owner.kind === 'servicePrincipal' ? owner.id : null,
    display_name: input.displayName ?? null, hint: secretHint(secretText), salt, hash,
    start_at: start.toISOString(), end_at: end.toISOString(),
  };
  return {
    row,
    password: { keyId: row.key_id, displayName: row.display_name, hint: row.hint, startDateTime: row.start_at, endDateTime: row.end_at, secretText },
  };
}

/** One tenant's applications and service principals, with the rules Graph applies to them. */
export class TenantDirectory implements Directory {
  readonly tenantId: string;

  constructor(private readonly store: SqliteIdentityStore, tenantId: string) {
    this.tenantId = tenantId.toLowerCase();
  }

  async createApplication(input: { displayName: string; description?: string | null; identifierUris?: string[]; signInAudience?: string }): Promise<Application> {
    return this.store.transaction(() => this.store.application(this.insertApplication(input)));
  }

  /** Inserts an application; for use inside a transaction that may add more. */
  insertApplication(input: { displayName: string; description?: string | null; identifierUris?: string[]; signInAudience?: string }): ApplicationRow {
    const row: ApplicationRow = {
      id: randomUUID(), app_id: randomUUID(), tenant_id: this.tenantId,
      display_name: validDisplayName(input.displayName), description: input.description ?? null,
      sign_in_audience: validSignInAudience(input.signInAudience ?? 'AzureADMyOrg'), created_at: new Date().toISOString(),
    };
    this.store.insertApplication(row);
    this.setIdentifierUris(row.id, input.identifierUris ?? []);
    return row;
  }

  async application(id: string): Promise<Application | undefined> {
    const row = this.store.applicationRow(this.tenantId, id);
    return row && this.store.application(row);
  }

  async listApplications(query: ListQuery<ApplicationFilter>): Promise<ListPage<Application>> {
    return this.store.listApplications(this.tenantId, query);
  }

  async updateApplication(id: string, patch: { displayName?: string; description?: string | null; identifierUris?: string[]; signInAudience?: string }): Promise<Application> {
    return this.store.transaction(() => {
      const row = this.applicationRow(id);
      const updated: ApplicationRow = {
        ...row,
        display_name: patch.displayName === undefined ? row.display_name : validDisplayName(patch.displayName),
        description: patch.description === undefined ? row.description : patch.description,
        sign_in_audience: patch.signInAudience === undefined ? row.sign_in_audience : validSignInAudience(patch.signInAudience),
      };
      this.store.updateApplication(updated);
      if (patch.identifierUris !== undefined) this.setIdentifierUris(id, patch.identifierUris);
      const sp = this.store.servicePrincipalRowByAppId(row.app_id);
      if (sp) this.syncServicePrincipalNames(sp.id, updated);
      return this.store.application(updated);
    });
  }

  async deleteApplication(id: string): Promise<boolean> {
    return this.store.deleteApplication(this.tenantId, id);
  }

  async createServicePrincipal(input: { appId: string; accountEnabled?: boolean }): Promise<ServicePrincipal> {
    return this.store.transaction(() => this.store.servicePrincipal(this.insertServicePrincipal(input)));
  }

  /** Inserts the service principal of an application of this tenant; for use inside a transaction. */
  insertServicePrincipal(input: { appId: string; accountEnabled?: boolean }): ServicePrincipalRow {
    const app = this.store.applicationRowByAppId(input.appId);
    if (!app || app.tenant_id !== this.tenantId) {
      throw new DirectoryError('InvalidInput', `The appId '${input.appId}' of the service principal does not reference a valid application object.`);
    }
    if (this.store.servicePrincipalRowByAppId(app.app_id)) {
      throw new DirectoryError('Conflict', `The service principal cannot be created, updated, or restored because the service principal name ${app.app_id} is already in use.`);
    }
    const row: ServicePrincipalRow = {
      id: randomUUID(), app_id: app.app_id, tenant_id: this.tenantId, application_id: app.id, type: 'Application',
      display_name: app.display_name, account_enabled: input.accountEnabled === false ? 0 : 1, resource_id: null,
      created_at: new Date().toISOString(),
    };
    this.store.insertServicePrincipal(row);
    this.syncServicePrincipalNames(row.id, app);
    return row;
  }

  async servicePrincipal(id: string): Promise<ServicePrincipal | undefined> {
    const row = this.servicePrincipalRow(id);
    return row && this.store.servicePrincipal(row);
  }

  async listServicePrincipals(query: ListQuery<ServicePrincipalFilter>): Promise<ListPage<ServicePrincipal>> {
    return this.store.listServicePrincipals(this.tenantId, query);
  }

  async deleteServicePrincipal(id: string): Promise<boolean> {
    return this.store.deleteServicePrincipal(this.tenantId, id);
  }

  async addPassword(owner: CredentialOwner, input: { displayName?: string | null; startDateTime?: string; endDateTime?: string }): Promise<NewPassword> {
    return this.store.transaction(() => {
      const { row, password } = preparePassword(this.appIdOf(owner), owner, input);
      this.store.insertPassword(row);
      return password;
    });
  }

  async removePassword(owner: CredentialOwner, keyId: string): Promise<void> {
    this.appIdOf(owner);
    if (!this.store.deletePassword(owner, keyId)) {
      throw new DirectoryError('NotFound', `No password credential with keyId '${keyId}' was found on ${owner.kind} '${owner.id}'.`);
    }
  }

  async objectsByIds(ids: string[]): Promise<DirectoryObject[]> {
    const found: DirectoryObject[] = [];
    for (const id of ids) {
      const app = this.store.applicationRow(this.tenantId, id);
      if (app) {
        found.push({ type: 'application', object: this.store.application(app) });
        continue;
      }
      const sp = this.servicePrincipalRow(id);
      if (sp) found.push({ type: 'servicePrincipal', object: this.store.servicePrincipal(sp) });
    }
    return found;
  }

  private applicationRow(id: string): ApplicationRow {
    const row = this.store.applicationRow(this.tenantId, id);
    if (!row) throw new DirectoryError('NotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    return row;
  }

  private servicePrincipalRow(id: string): ServicePrincipalRow | undefined {
    const row = this.store.servicePrincipalRow(id);
    return row && row.tenant_id === this.tenantId ? row : undefined;
  }

  private appIdOf(owner: CredentialOwner): string {
    if (owner.kind === 'application') return this.applicationRow(owner.id).app_id;
    const sp = this.servicePrincipalRow(owner.id);
    if (!sp) throw new DirectoryError('NotFound', `Resource '${owner.id}' does not exist or one of its queried reference-property objects are not present.`);
    return sp.app_id;
  }

  private setIdentifierUris(applicationId: string, uris: string[]): void {
    for (const uri of uris) {
      if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri)) throw new DirectoryError('InvalidInput', `identifierUris: ${JSON.stringify(uri)} is not a URI`);
      const owner = this.store.identifierUriOwner(uri);
      if (owner !== undefined && owner.toLowerCase() !== applicationId.toLowerCase()) {
        throw new DirectoryError('InvalidInput', 'Another object with the same value for property identifierUris already exists.');
      }
    }
    this.store.replaceIdentifierUris(applicationId, [...new Map(uris.map((u) => [u.toLowerCase(), u])).values()]);
  }

  private syncServicePrincipalNames(servicePrincipalId: string, app: ApplicationRow): void {
    this.store.replaceServicePrincipalNames(servicePrincipalId, servicePrincipalNames(app.app_id, app.display_name, this.store.identifierUris(app.id)));
  }
}
