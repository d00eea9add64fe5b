import type { Statement } from 'better-sqlite3';
import type { KeyStore, SigningKeyRow } from '../crypto/signing-key-ring.js';
import { openSqlite, type Migration, type Sqlite } from '../store/sqlite.js';
import {
  DirectoryError, type Application, type ApplicationFilter, type CredentialOwner, type ListPage, type ListQuery,
  type PasswordCredential, type ServicePrincipal, type ServicePrincipalFilter, type Tenant,
} from './types.js';
import { GUID } from '../guid.js';

/** Tables whose changes can invalidate a verified token, a checked secret or a principal's roles; each change bumps the generation. */
const REVOCATION_TABLES = ['applications', 'service_principals', 'directory_role_members', 'password_credentials', 'signing_keys'];

export const IDENTITY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tenants, applications, service principals, directory roles, password credentials, signing keys',
    up: `
      CREATE TABLE identity_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
      INSERT INTO identity_generation (id, value) VALUES (1, 0);
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY COLLATE NOCASE,
        display_name TEXT NOT NULL,
        is_default INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX tenants_one_default ON tenants (is_default) WHERE is_default = 1;
      CREATE TABLE applications (
        id TEXT PRIMARY KEY COLLATE NOCASE,
        app_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        display_name TEXT NOT NULL,
        description TEXT,
        sign_in_audience TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX applications_by_name ON applications (tenant_id, display_name COLLATE NOCASE);
      CREATE TABLE application_identifier_uris (
        application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        uri TEXT NOT NULL UNIQUE COLLATE NOCASE,
        position INTEGER NOT NULL,
        PRIMARY KEY (application_id, uri)
      );
      CREATE TABLE service_principals (
        id TEXT PRIMARY KEY COLLATE NOCASE,
        app_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        application_id TEXT REFERENCES applications(id) ON DELETE CASCADE,
        type TEXT NOT NULL CHECK (type IN ('Application', 'ManagedIdentity')),
        display_name TEXT NOT NULL,
        account_enabled INTEGER NOT NULL,
        resource_id TEXT UNIQUE COLLATE NOCASE,
        created_at TEXT NOT NULL
      );
      CREATE INDEX service_principals_by_name ON service_principals (tenant_id, display_name COLLATE NOCASE);
      CREATE TABLE service_principal_names (
        service_principal_id TEXT NOT NULL REFERENCES service_principals(id) ON DELETE CASCADE,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        position INTEGER NOT NULL,
        PRIMARY KEY (service_principal_id, name)
      );
      CREATE TABLE directory_role_members (
        service_principal_id TEXT NOT NULL REFERENCES service_principals(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        PRIMARY KEY (service_principal_id, role)
      );
      CREATE TABLE password_credentials (
        key_id TEXT PRIMARY KEY COLLATE NOCASE,
        app_id TEXT NOT NULL COLLATE NOCASE,
        application_id TEXT REFERENCES applications(id) ON DELETE CASCADE,
        service_principal_id TEXT REFERENCES service_principals(id) ON DELETE CASCADE,
        display_name TEXT,
        hint TEXT NOT NULL,
        salt BLOB NOT NULL,
        hash BLOB NOT NULL,
        start_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        CHECK ((application_id IS NULL) <> (service_principal_id IS NULL))
      );
      CREATE INDEX password_credentials_by_app ON password_credentials (app_id);
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        private_pem TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
      );
      ${REVOCATION_TABLES.flatMap((table) => ['INSERT', 'UPDATE', 'DELETE'].map((op) => `
      CREATE TRIGGER ${table}_${op.toLowerCase()}_bumps_generation AFTER ${op} ON ${table}
      BEGIN UPDATE identity_generation SET value = value + 1 WHERE id = 1; END;`)).join('\n')}
    `,
  },
  {
    version: 2,
    // The shared key ring keeps a private JWK (the public key derives from it). A PEM cannot be turned into a JWK
    // in SQL; nothing is deployed yet, so the old keys go and the ring makes a new one on its next sync.
    description: 'signing keys kept as private JWKs',
    up: `
      DROP TABLE signing_keys;
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        private_jwk TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
      );
      ${['INSERT', 'UPDATE', 'DELETE'].map((op) => `
      CREATE TRIGGER signing_keys_${op.toLowerCase()}_bumps_generation AFTER ${op} ON signing_keys
      BEGIN UPDATE identity_generation SET value = value + 1 WHERE id = 1; END;`).join('\n')}
    `,
  },
];

interface TenantRow { id: string; display_name: string; is_default: number; created_at: string }
export interface ApplicationRow {
  id: string; app_id: string; tenant_id: string; display_name: string; description: string | null;
  sign_in_audience: string; created_at: string;
}
export interface ServicePrincipalRow {
  id: string; app_id: string; tenant_id: string; application_id: string | null; type: 'Application' | 'ManagedIdentity';
  display_name: string; account_enabled: number; resource_id: string | null; created_at: string;
}
export interface PasswordRow {
  key_id: string; app_id: string; application_id: string | null; service_principal_id: string | null;
  display_name: string | null; hint: string; salt: Buffer; hash: Buffer; start_at: string; end_at: string;
}

const toTenant = (r: TenantRow): Tenant => ({ id: r.id, displayName: r.display_name, isDefault: r.is_default === 1, createdDateTime: r.created_at });

export const toPasswordCredential = (r: PasswordRow): PasswordCredential => ({
  keyId: r.key_id, displayName: r.display_name, hint: r.hint, startDateTime: r.start_at, endDateTime: r.end_at,
});

/** Escapes LIKE's wildcards so that a prefix matches literally. */
const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function filterClause(filter: ApplicationFilter | ServicePrincipalFilter | undefined, namesTable: string, ownerColumn: string): { sql: string; args: string[] } {
  if (!filter) return { sql: '', args: [] };
  if ('displayName' in filter) return { sql: 'AND display_name = ? COLLATE NOCASE', args: [filter.displayName] };
  if ('displayNamePrefix' in filter) return { sql: "AND display_name LIKE ? ESCAPE '\\'", args: [likePrefix(filter.displayNamePrefix)] };
  if ('appId' in filter) return { sql: 'AND app_id = ?', args: [filter.appId] };
  if ('id' in filter) return { sql: 'AND id = ?', args: [filter.id] };
  const name = 'identifierUri' in filter ? filter.identifierUri : filter.servicePrincipalName;
  const column = 'identifierUri' in filter ? 'uri' : 'name';
  return { sql: `AND id IN (SELECT ${ownerColumn} FROM ${namesTable} WHERE ${column} = ?)`, args: [name] };
}

const encodeSkipToken = (id: string): string => Buffer.from(id).toString('base64url');
/** A skip token is one this store made: anything else would silently list from some other place. */
const decodeSkipToken = (token: string | undefined): string => {
  if (token === undefined) return '';
  const id = Buffer.from(token, 'base64url').toString();
  if (encodeSkipToken(id) !== token || !GUID.test(id)) {
    throw new DirectoryError('InvalidInput', `The $skiptoken '${token.slice(0, 64)}' is not valid: follow @odata.nextLink as it was given.`);
  }
  return id;
};

/**
 * The identity plane's tables in the shared database file. Plain reads and writes; the rules
 * (which names a service principal gets, what a password is worth) live in the services above it.
 */
export class SqliteIdentityStore implements KeyStore {
  private readonly db: Sqlite;
  private readonly q: Record<string, Statement>;
  private readonly listStatements = new Map<string, Statement>();

  constructor(file: string) {
    this.db = openSqlite(file, 'identity', IDENTITY_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      generation: p('SELECT value FROM identity_generation WHERE id = 1'),
      tenants: p('SELECT * FROM tenants ORDER BY created_at'),
      tenant: p('SELECT * FROM tenants WHERE id = ?'),
      defaultTenant: p('SELECT * FROM tenants WHERE is_default = 1'),
      insertTenant: p('INSERT INTO tenants (id, display_name, is_default, created_at) VALUES (?, ?, ?, ?)'),
      insertApplication: p(`INSERT INTO applications (id, app_id, tenant_id, display_name, description, sign_in_audience, created_at)
                            VALUES (@id, @app_id, @tenant_id, @display_name, @description, @sign_in_audience, @created_at)`),
      application: p('SELECT * FROM applications WHERE tenant_id = ? AND id = ?'),
      applicationByAppId: p('SELECT * FROM applications WHERE app_id = ?'),
      updateApplication: p(`UPDATE applications SET display_name = @display_name, description = @description,
                            sign_in_audience = @sign_in_audience WHERE id = @id`),
      deleteApplication: p('DELETE FROM applications WHERE tenant_id = ? AND id = ?'),
      identifierUris: p('SELECT uri FROM application_identifier_uris WHERE application_id = ? ORDER BY position'),
      deleteIdentifierUris: p('DELETE FROM application_identifier_uris WHERE application_id = ?'),
      insertIdentifierUri: p('INSERT INTO application_identifier_uris (application_id, uri, position) VALUES (?, ?, ?)'),
      identifierUriOwner: p('SELECT application_id FROM application_identifier_uris WHERE uri = ?'),
      insertServicePrincipal: p(`INSERT INTO service_principals (id, app_id, tenant_id, application_id, type, display_name, account_enabled, resource_id, created_at)
                                 VALUES (@id, @app_id, @tenant_id, @application_id, @type, @display_name, @account_enabled, @resource_id, @created_at)`),
      servicePrincipal: p('SELECT * FROM service_principals WHERE id = ?'),
      servicePrincipalByAppId: p('SELECT * FROM service_principals WHERE app_id = ?'),
      servicePrincipalByResourceId: p('SELECT * FROM service_principals WHERE resource_id = ?'),
      deleteServicePrincipal: p('DELETE FROM service_principals WHERE tenant_id = ? AND id = ?'),
      servicePrincipalNames: p('SELECT name FROM service_principal_names WHERE service_principal_id = ? ORDER BY position'),
      deleteServicePrincipalNames: p('DELETE FROM service_principal_names WHERE service_principal_id = ?'),
      insertServicePrincipalName: p('INSERT INTO service_principal_names (service_principal_id, name, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      directoryRoles: p('SELECT role FROM directory_role_members WHERE service_principal_id = ? ORDER BY role'),
      insertDirectoryRole: p('INSERT INTO directory_role_members (service_principal_id, role) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      insertPassword: p(`INSERT INTO password_credentials (key_id, app_id, application_id, service_principal_id, display_name, hint, salt, hash, start_at, end_at)
                         VALUES (@key_id, @app_id, @application_id, @service_principal_id, @display_name, @hint, @salt, @hash, @start_at, @end_at)`),
      password: p('SELECT * FROM password_credentials WHERE key_id = ?'),
      passwordsOfApp: p('SELECT * FROM password_credentials WHERE app_id = ?'),
      passwordsOfApplication: p('SELECT * FROM password_credentials WHERE application_id = ? ORDER BY start_at, key_id'),
      passwordsOfServicePrincipal: p('SELECT * FROM password_credentials WHERE service_principal_id = ? ORDER BY start_at, key_id'),
      deleteApplicationPassword: p('DELETE FROM password_credentials WHERE application_id = ? AND key_id = ?'),
      deleteServicePrincipalPassword: p('DELETE FROM password_credentials WHERE service_principal_id = ? AND key_id = ?'),
      passwordsEndingBefore: p('SELECT * FROM password_credentials WHERE end_at < ? ORDER BY end_at'),
      signingKeys: p('SELECT kid, private_jwk, retired_at FROM signing_keys ORDER BY created_at DESC, kid'),
      insertSigningKey: p('INSERT INTO signing_keys (kid, private_jwk, created_at) VALUES (?, ?, ?)'),
      retireSigningKeys: p('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL'),
      deleteSigningKey: p('DELETE FROM signing_keys WHERE kid = ?'),
      deleteSigningKeysRetiredBefore: p('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?'),
    };
  }

  /** A number that changes whenever any process changes what could revoke a token or a secret. */
  generation(): number {
    return this.q.generation!.pluck().get() as number;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  tenants(): Tenant[] {
    return (this.q.tenants!.all() as TenantRow[]).map(toTenant);
  }

  tenant(id: string): Tenant | undefined {
    const row = this.q.tenant!.get(id) as TenantRow | undefined;
    return row && toTenant(row);
  }

  defaultTenant(): Tenant | undefined {
    const row = this.q.defaultTenant!.get() as TenantRow | undefined;
    return row && toTenant(row);
  }

  insertTenant(tenant: Tenant): void {
    this.q.insertTenant!.run(tenant.id, tenant.displayName, tenant.isDefault ? 1 : 0, tenant.createdDateTime);
  }

  insertApplication(row: ApplicationRow): void {
    this.q.insertApplication!.run(row);
  }

  applicationRow(tenantId: string, id: string): ApplicationRow | undefined {
    return this.q.application!.get(tenantId, id) as ApplicationRow | undefined;
  }

  applicationRowByAppId(appId: string): ApplicationRow | undefined {
    return this.q.applicationByAppId!.get(appId) as ApplicationRow | undefined;
  }

  updateApplication(row: ApplicationRow): void {
    this.q.updateApplication!.run(row);
  }

  deleteApplication(tenantId: string, id: string): boolean {
    return this.q.deleteApplication!.run(tenantId, id).changes > 0;
  }

  identifierUris(applicationId: string): string[] {
    return this.q.identifierUris!.pluck().all(applicationId) as string[];
  }

  /** The application that already holds the URI, if any. */
  identifierUriOwner(uri: string): string | undefined {
    return this.q.identifierUriOwner!.pluck().get(uri) as string | undefined;
  }

  replaceIdentifierUris(applicationId: string, uris: string[]): void {
    this.q.deleteIdentifierUris!.run(applicationId);
    uris.forEach((uri, i) => this.q.insertIdentifierUri!.run(applicationId, uri, i));
  }

  application(row: ApplicationRow): Application {
    return {
      id: row.id, appId: row.app_id, tenantId: row.tenant_id, displayName: row.display_name, description: row.description,
      identifierUris: this.identifierUris(row.id), signInAudience: row.sign_in_audience, createdDateTime: row.created_at,
      passwordCredentials: (this.q.passwordsOfApplication!.all(row.id) as PasswordRow[]).map(toPasswordCredential),
    };
  }

  listApplications(tenantId: string, query: ListQuery<ApplicationFilter>): ListPage<Application> {
    const rows = this.listRows<ApplicationRow>('applications', tenantId, query, 'application_identifier_uris', 'application_id');
    return { ...rows, items: rows.items.map((r) => this.application(r)) };
  }

  insertServicePrincipal(row: ServicePrincipalRow): void {
    this.q.insertServicePrincipal!.run(row);
  }

  servicePrincipalRow(id: string): ServicePrincipalRow | undefined {
    return this.q.servicePrincipal!.get(id) as ServicePrincipalRow | undefined;
  }

  servicePrincipalRowByAppId(appId: string): ServicePrincipalRow | undefined {
    return this.q.servicePrincipalByAppId!.get(appId) as ServicePrincipalRow | undefined;
  }

  servicePrincipalRowByResourceId(resourceId: string): ServicePrincipalRow | undefined {
    return this.q.servicePrincipalByResourceId!.get(resourceId) as ServicePrincipalRow | undefined;
  }

  deleteServicePrincipal(tenantId: string, id: string): boolean {
    return this.q.deleteServicePrincipal!.run(tenantId, id).changes > 0;
  }

  /** Names another service principal already holds are skipped: a name finds one principal. */
  replaceServicePrincipalNames(servicePrincipalId: string, names: string[]): void {
    this.q.deleteServicePrincipalNames!.run(servicePrincipalId);
    names.forEach((name, i) => this.q.insertServicePrincipalName!.run(servicePrincipalId, name, i));
  }

  directoryRoles(servicePrincipalId: string): string[] {
    return this.q.directoryRoles!.pluck().all(servicePrincipalId) as string[];
  }

  addDirectoryRole(servicePrincipalId: string, role: string): void {
    this.q.insertDirectoryRole!.run(servicePrincipalId, role);
  }

  servicePrincipal(row: ServicePrincipalRow): ServicePrincipal {
    return {
      id: row.id, appId: row.app_id, tenantId: row.tenant_id, displayName: row.display_name,
      accountEnabled: row.account_enabled === 1, servicePrincipalType: row.type,
      servicePrincipalNames: this.q.servicePrincipalNames!.pluck().all(row.id) as string[],
      alternativeNames: row.resource_id === null ? [] : ['isExplicit=True', row.resource_id],
      createdDateTime: row.created_at,
      passwordCredentials: (this.q.passwordsOfServicePrincipal!.all(row.id) as PasswordRow[]).map(toPasswordCredential),
      directoryRoles: this.directoryRoles(row.id),
    };
  }

  listServicePrincipals(tenantId: string, query: ListQuery<ServicePrincipalFilter>): ListPage<ServicePrincipal> {
    const rows = this.listRows<ServicePrincipalRow>('service_principals', tenantId, query, 'service_principal_names', 'service_principal_id');
    return { ...rows, items: rows.items.map((r) => this.servicePrincipal(r)) };
  }

  insertPassword(row: PasswordRow): void {
    this.q.insertPassword!.run(row);
  }

  password(keyId: string): PasswordRow | undefined {
    return this.q.password!.get(keyId) as PasswordRow | undefined;
  }

  /** Every password an application's clients can authenticate with: the application's and its service principal's. */
  passwordsOfApp(appId: string): PasswordRow[] {
    return this.q.passwordsOfApp!.all(appId) as PasswordRow[];
  }

  deletePassword(owner: CredentialOwner, keyId: string): boolean {
    const statement = owner.kind === 'application' ? this.q.deleteApplicationPassword! : this.q.deleteServicePrincipalPassword!;
    return statement.run(owner.id, keyId).changes > 0;
  }

  passwordsEndingBefore(before: string): PasswordRow[] {
    return this.q.passwordsEndingBefore!.all(before) as PasswordRow[];
  }

  signingKeys(): SigningKeyRow[] {
    return this.q.signingKeys!.all() as SigningKeyRow[];
  }

  activateSigningKey(kid: string, privateJwk: string, dropRetiredBefore: string): void {
    this.db.transaction(() => {
      const now = new Date().toISOString();
      this.q.retireSigningKeys!.run(now);
      this.q.insertSigningKey!.run(kid, privateJwk, now);
      this.q.deleteSigningKeysRetiredBefore!.run(dropRetiredBefore);
    }).immediate();
  }

  deleteSigningKey(kid: string): boolean {
    return this.q.deleteSigningKey!.run(kid).changes > 0;
  }

  /** One page ordered by object id; the skip token is the last id returned. */
  private listRows<R extends { id: string }>(table: string, tenantId: string, query: ListQuery<ApplicationFilter | ServicePrincipalFilter>, namesTable: string, ownerColumn: string): ListPage<R> {
    const where = filterClause(query.filter, namesTable, ownerColumn);
    const sql = `SELECT * FROM ${table} WHERE tenant_id = ? AND id > ? ${where.sql} ORDER BY id LIMIT ?`;
    let statement = this.listStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.listStatements.set(sql, statement);
    }
    const rows = statement.all(tenantId, decodeSkipToken(query.skipToken), ...where.args, query.top + 1) as R[];
    if (rows.length <= query.top) return { items: rows };
    const items = rows.slice(0, query.top);
    return { items, skipToken: encodeSkipToken(items[items.length - 1]!.id) };
  }
}
