import { randomUUID } from 'node:crypto';
import { secretMatches } from '../crypto/secret-hash.js';
import { SigningKeyRing } from '../crypto/signing-key-ring.js';
import { isKnownAudience, sameAudience } from './audiences.js';
import { preparePassword, TenantDirectory } from './directory.js';
import { issuer, issuersOf } from './issuers.js';
import { SqliteIdentityStore, toPasswordCredential, type ServicePrincipalRow } from './sqlite-store.js';
import { CLOCK_SKEW_S, signAccessToken, TOKEN_LIFETIME_S, verifySignature, type UnsignedClaims } from './tokens.js';
import {
  AUDIENCES, IdentityError, type Authority, type Directory, type IdentityService, type IssuedToken, type NewPassword,
  type PasswordCredential, type Principal, type PublicSigningKey, type Tenant, type VerifiedToken,
} from './types.js';

/** Cached verifications are bounded; the oldest go first. */
const CACHE_ENTRIES = 10_000;
const DEFAULT_TENANT_NAME = 'Default Directory';

interface CachedVerification { verified: VerifiedToken; generation: number }

/**
 * The identity plane over its SQLite tables: the directory, client authentication and the token service.
 * Verified tokens are cached, each entry stamped with the store's generation, which every change to principals,
 * passwords, roles or keys (by any process) bumps: a cache hit never outlives a revocation. Client secrets are not
 * cached: their hash is cheap (see crypto/secret-hash).
 */
export class SqliteIdentityService implements IdentityService {
  private readonly verified = new Map<string, CachedVerification>();

  private constructor(
    private readonly store: SqliteIdentityStore,
    private readonly keys: SigningKeyRing,
    readonly defaultTenantId: string,
    private readonly publicUrl: string,
  ) {}

  /** Opens the identity tables of `file`, creating the default tenant and the first signing key on a new store. */
  static async open(file: string, options: { publicUrl: string }): Promise<SqliteIdentityService> {
    const store = new SqliteIdentityStore(file);
    let tenant = store.defaultTenant();
    if (!tenant) {
      tenant = { id: randomUUID(), displayName: DEFAULT_TENANT_NAME, isDefault: true, createdDateTime: new Date().toISOString() };
      store.insertTenant(tenant);
    }
    const keys = new SigningKeyRing(store, 'RS256', (TOKEN_LIFETIME_S + CLOCK_SKEW_S) * 1000);
    await keys.sync();
    return new SqliteIdentityService(store, keys, tenant.id, options.publicUrl);
  }

  close(): void {
    this.store.close();
  }

  async verifyAccessToken(token: string, audiences: readonly string[]): Promise<VerifiedToken> {
    const generation = await this.keys.sync();
    const cached = this.verified.get(token);
    let verified: VerifiedToken;
    if (cached && cached.generation === generation && Date.now() < cached.verified.expiresAt.getTime()) {
      verified = cached.verified;
    } else {
      verified = await this.verifyUncached(token);
      if (Date.now() < verified.expiresAt.getTime()) {
        if (this.verified.size >= CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value as string);
        this.verified.set(token, { verified, generation });
      }
    }
    if (!audiences.some((a) => sameAudience(a, verified.audience))) {
      throw new IdentityError('wrong_audience', `the token's audience ${verified.audience} is not one of ${audiences.join(', ')}`);
    }
    return verified;
  }

  async checkClientSecret(appId: string, secret: string): Promise<Principal> {
    return (await this.authenticateClient(appId, secret)).principal;
  }

  async issueAccessToken(principal: Principal, audience: string, authority: Authority = 'v2'): Promise<{ accessToken: string; expiresIn: number }> {
    const row = this.store.servicePrincipalRow(principal.objectId);
    if (!row) throw new IdentityError('unknown_principal', `the principal ${principal.objectId} does not exist`);
    const { accessToken, expiresIn } = await this.sign(row, audience, authority);
    return { accessToken, expiresIn };
  }

  async clientCredentialsToken(input: { tenant: string | undefined; clientId: string; clientSecret: string; resource: string; authority: Authority }): Promise<IssuedToken> {
    const tenantId = input.tenant?.toLowerCase();
    if (tenantId !== undefined && !this.store.tenant(tenantId)) {
      throw new IdentityError('unknown_tenant', `Tenant '${input.tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const sp = this.store.servicePrincipalRowByAppId(input.clientId);
    if (tenantId !== undefined && sp && sp.tenant_id !== tenantId) throw unknownClient(input.clientId, tenantId);
    const client = await this.authenticateClient(input.clientId, input.clientSecret, tenantId);
    if (!isKnownAudience(input.resource, this.audiences())) {
      throw new IdentityError('unknown_resource', `The resource principal named ${input.resource} was not found in the tenant named ${client.sp.tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
    }
    return this.sign(client.sp, input.resource, input.authority, client.keyId);
  }

  audiences(): string[] {
    return [...AUDIENCES.arm, ...AUDIENCES.graph, ...AUDIENCES.acr, `${this.publicUrl}/`];
  }

  async tenant(id: string): Promise<Tenant | undefined> {
    return this.store.tenant(id);
  }

  directory(tenantId: string): Directory {
    return new TenantDirectory(this.store, tenantId);
  }

  async principalByObjectId(objectId: string): Promise<Principal | undefined> {
    const row = this.store.servicePrincipalRow(objectId);
    return row && this.principalOf(row);
  }

  async principalByAppId(appId: string): Promise<Principal | undefined> {
    const row = this.store.servicePrincipalRowByAppId(appId);
    return row && this.principalOf(row);
  }

  async createServicePrincipal(input: { displayName: string; directoryRoles?: string[]; passwordYears?: number }): Promise<{ principal: Principal; password: NewPassword }> {
    const directory = new TenantDirectory(this.store, this.defaultTenantId);
    const start = new Date();
    const end = new Date(new Date(start).setUTCFullYear(start.getUTCFullYear() + (input.passwordYears ?? 1)));
    const { sp, password } = this.store.transaction(() => {
      const app = directory.insertApplication({ displayName: input.displayName });
      const row = directory.insertServicePrincipal({ appId: app.app_id });
      for (const role of input.directoryRoles ?? []) this.store.addDirectoryRole(row.id, role);
      const prepared = preparePassword(app.app_id, { kind: 'application', id: app.id }, { displayName: 'rbac', startDateTime: start.toISOString(), endDateTime: end.toISOString() });
      this.store.insertPassword(prepared.row);
      return { sp: row, password: prepared.password };
    });
    return { principal: this.principalOf(sp), password };
  }

  async createManagedIdentity(input: { displayName: string; resourceId: string }): Promise<Principal> {
    const row = this.store.transaction(() => {
      const existing = this.store.servicePrincipalRowByResourceId(input.resourceId);
      if (existing) return existing;
      const id = randomUUID();
      const created: ServicePrincipalRow = {
        id, app_id: randomUUID(), tenant_id: this.defaultTenantId, application_id: null, type: 'ManagedIdentity',
        display_name: input.displayName, account_enabled: 1, resource_id: input.resourceId, created_at: new Date().toISOString(),
      };
      this.store.insertServicePrincipal(created);
      this.store.replaceServicePrincipalNames(id, [created.app_id]);
      return created;
    });
    return this.principalOf(row);
  }

  async addPassword(appId: string, input: { displayName?: string; endDateTime?: string }): Promise<NewPassword> {
    const app = this.store.applicationRowByAppId(appId);
    if (!app) throw new IdentityError('unknown_client', `no application has the appId ${appId}`);
    return new TenantDirectory(this.store, app.tenant_id).addPassword({ kind: 'application', id: app.id }, input);
  }

  async deletePrincipal(objectId: string): Promise<boolean> {
    const row = this.store.servicePrincipalRow(objectId);
    if (!row) return false;
    return row.application_id === null
      ? this.store.deleteServicePrincipal(row.tenant_id, row.id)
      : this.store.deleteApplication(row.tenant_id, row.application_id);
  }

  async expiringPasswords(before: Date): Promise<Array<{ principal: Principal; password: PasswordCredential }>> {
    return this.store.passwordsEndingBefore(before.toISOString()).flatMap((row) => {
      const sp = this.store.servicePrincipalRowByAppId(row.app_id);
      return sp ? [{ principal: this.principalOf(sp), password: toPasswordCredential(row) }] : [];
    });
  }

  async signingKeys(): Promise<PublicSigningKey[]> {
    await this.keys.sync();
    // The ring is RS256, so every key it publishes is an RSA one.
    return this.keys.published() as PublicSigningKey[];
  }

  async rotateSigningKey(): Promise<string> {
    return this.keys.rotate();
  }

  async removeSigningKey(kid: string): Promise<boolean> {
    return this.keys.remove(kid);
  }

  private principalOf(row: ServicePrincipalRow): Principal {
    return {
      objectId: row.id, appId: row.app_id, tenantId: row.tenant_id, displayName: row.display_name,
      type: row.type === 'ManagedIdentity' ? 'ManagedIdentity' : 'ServicePrincipal',
      directoryRoles: this.store.directoryRoles(row.id),
    };
  }

  /**
   * Finds the client's principal and the password its secret matches. Every candidate password is compared, so
   * the time taken does not tell which matched.
   */
  private async authenticateClient(appId: string, secret: string, tenantId?: string): Promise<{ sp: ServicePrincipalRow; principal: Principal; keyId: string }> {
    const sp = this.store.servicePrincipalRowByAppId(appId);
    if (!sp) {
      if (this.store.applicationRowByAppId(appId)) {
        throw new IdentityError('unknown_principal', `The client application ${appId} is missing service principal in the tenant ${tenantId ?? this.defaultTenantId}.`);
      }
      throw unknownClient(appId, tenantId ?? this.defaultTenantId);
    }
    if (sp.account_enabled !== 1) throw new IdentityError('disabled_principal', `Application '${appId}'(${sp.display_name}) is disabled.`);
    const principal = this.principalOf(sp);
    const now = Date.now();
    let matched: string | undefined;
    let expired = false;
    for (const row of this.store.passwordsOfApp(sp.app_id)) {
      if (!secretMatches(secret, row)) continue;
      if (now >= Date.parse(row.start_at) && now < Date.parse(row.end_at)) matched = row.key_id;
      else expired = true;
    }
    if (matched) return { sp, principal, keyId: matched };
    if (expired) {
      throw new IdentityError('expired_secret', `The provided client secret keys for app '${appId}' are expired. Create new keys for the app, or consider using certificate credentials for added security.`);
    }
    throw new IdentityError('invalid_secret', `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`);
  }

  private async sign(sp: ServicePrincipalRow, audience: string, authority: Authority, credentialId?: string): Promise<IssuedToken> {
    const claims: UnsignedClaims = {
      aud: audience, iss: issuer(this.publicUrl, authority, sp.tenant_id), tid: sp.tenant_id, oid: sp.id, sub: sp.id,
      appid: sp.app_id, azp: sp.app_id, appidacr: credentialId ? '1' : '2', azpacr: credentialId ? '1' : '2',
      idtyp: 'app', ver: authority === 'v2' ? '2.0' : '1.0',
      ...(sp.resource_id === null ? {} : { xms_mirid: sp.resource_id }),
      ...(credentialId === undefined ? {} : { credential_id: credentialId }),
    };
    const now = Date.now();
    const { token, claims: signed } = await signAccessToken(await this.keys.active(), claims, now);
    return {
      accessToken: token, audience,
      expiresIn: signed.exp - Math.floor(now / 1000),
      expiresOn: new Date(signed.exp * 1000),
      notBefore: new Date(signed.nbf * 1000),
    };
  }

  private async verifyUncached(token: string): Promise<VerifiedToken> {
    const claims = await verifySignature(token, this.keys);
    const tenantId = claims.tid.toLowerCase();
    if (!this.store.tenant(tenantId)) throw new IdentityError('invalid_token', `the token's tenant ${claims.tid} is not known here`);
    if (!issuersOf(this.publicUrl, tenantId).includes(claims.iss)) throw new IdentityError('invalid_token', `the token's issuer ${claims.iss} is not this server`);
    if (typeof claims.aud !== 'string') throw new IdentityError('invalid_token', 'the token must have exactly one audience');
    const sp = this.store.servicePrincipalRow(claims.oid);
    if (!sp || sp.tenant_id !== tenantId || sp.app_id.toLowerCase() !== String(claims.appid).toLowerCase()) {
      throw new IdentityError('unknown_principal', `the token's principal ${claims.oid} no longer exists`);
    }
    if (sp.account_enabled !== 1) throw new IdentityError('disabled_principal', `the token's principal ${claims.oid} is disabled`);
    if (claims.credential_id !== undefined) {
      const password = this.store.password(claims.credential_id);
      if (!password || password.app_id.toLowerCase() !== sp.app_id.toLowerCase() || Date.parse(password.end_at) <= Date.now()) {
        throw new IdentityError('invalid_token', 'the password this token was obtained with has been removed or has expired');
      }
    }
    return { principal: this.principalOf(sp), audience: claims.aud, tenantId, expiresAt: new Date(claims.exp * 1000) };
  }
}

function unknownClient(appId: string, tenantId: string): IdentityError {
  return new IdentityError('unknown_client', `Application with identifier '${appId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
}
