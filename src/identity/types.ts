/**
 * The identity plane's contract (Entra ID style): the directory of tenants, applications, service principals,
 * password credentials and managed identities, and the token service that signs access tokens for them.
 * Other planes use only this interface; the Graph and OAuth2 HTTP layers sit on top of it.
 */

export type PrincipalType = 'ServicePrincipal' | 'ManagedIdentity';

/** A directory role that allows writes through Graph (create applications, service principals, passwords). */
export const DIRECTORY_WRITER_ROLE = 'Application Administrator';

/** Who is calling: a service principal or a managed identity, as the planes that authorize need it. */
export interface Principal {
  /** The service principal's object id: what role assignments name as principalId. */
  objectId: string;
  /** The application (client) id: what a client authenticates as, and what docker usernames carry. */
  appId: string;
  tenantId: string;
  displayName: string;
  type: PrincipalType;
  /** Directory roles held, e.g. DIRECTORY_WRITER_ROLE for the administrator; empty for a cluster identity. */
  directoryRoles: string[];
}

/** A password credential as Graph shows it; the secret itself is never stored, only its salted hash. */
export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  hint: string;
  startDateTime: string;
  endDateTime: string;
}

/** A new password: the only time the secret text exists outside the caller's hands. */
export interface NewPassword extends PasswordCredential {
  secretText: string;
}

/** The audiences the token service issues for; `scope=<resource>/.default` and `resource=` map onto them. */
export const AUDIENCES = {
  /** Resource manager, as `az` asks for it (active_directory_resource_id) and as the SDKs do. */
  arm: ['https://management.core.windows.net/', 'https://management.azure.com/'],
  /** Microsoft Graph; the server's own Graph URL is accepted as well (the az cloud's microsoft_graph_resource_id). */
  graph: ['https://graph.microsoft.com/'],
  /** ACR's data plane audience, accepted by /oauth2/exchange. */
  acr: ['https://containerregistry.azure.net'],
} as const;

export interface VerifiedToken {
  principal: Principal;
  audience: string;
  tenantId: string;
  expiresAt: Date;
}

/**
 * Which family of token endpoints a token comes from: it decides the issuer (`iss`) and version (`ver`) claims,
 * which must match the discovery document of the authority the client was configured with.
 */
export type Authority = 'v2' | 'v1' | 'adfs';

export interface Tenant {
  id: string;
  displayName: string;
  isDefault: boolean;
  createdDateTime: string;
}

export interface IssuedToken {
  accessToken: string;
  /** Seconds until `expiresOn`. */
  expiresIn: number;
  expiresOn: Date;
  notBefore: Date;
  audience: string;
}

/** Why a credential or token was refused, in words that can be shown to the caller. */
export class IdentityError extends Error {
  constructor(
    readonly reason: 'unknown_client' | 'invalid_secret' | 'expired_secret' | 'invalid_token' | 'expired_token' | 'wrong_audience' | 'unknown_principal'
      | 'unknown_tenant' | 'unknown_resource' | 'disabled_principal',
    message: string,
  ) {
    super(message);
  }
}

/** A public signing key as JWKS publishes it. */
export interface PublicSigningKey {
  kty: 'RSA';
  use: 'sig';
  alg: 'RS256';
  kid: string;
  n: string;
  e: string;
}

export interface IdentityService {
  readonly defaultTenantId: string;

  /** Verifies an identity-plane access token: signature (by kid, RS256 only), issuer, audience (one of `audiences`), nbf/exp. */
  verifyAccessToken(token: string, audiences: readonly string[]): Promise<VerifiedToken>;
  /** Checks an application's client secret in constant time against its unexpired passwords; throws IdentityError. */
  checkClientSecret(appId: string, secret: string): Promise<Principal>;
  /** Signs an access token for a principal and audience (managed identity endpoint; `v2` issuer unless told). */
  issueAccessToken(principal: Principal, audience: string, authority?: Authority): Promise<{ accessToken: string; expiresIn: number }>;
  /**
   * The OAuth2 client-credentials grant: `tenant` is the tenant the client named (undefined for `common`,
   * `organizations` and the ADFS authority), `resource` what it asked a token for. Throws IdentityError.
   */
  clientCredentialsToken(input: { tenant: string | undefined; clientId: string; clientSecret: string; resource: string; authority: Authority }): Promise<IssuedToken>;
  /** The resources tokens are issued for: AUDIENCES and the server's own Graph URL. */
  audiences(): string[];

  tenant(id: string): Promise<Tenant | undefined>;
  /** The directory as Graph shows it, within one tenant. */
  directory(tenantId: string): Directory;

  /** The published keys: the active one, and retired ones until the last token they signed has expired. */
  signingKeys(): Promise<PublicSigningKey[]>;
  /** A new key signs from now on; the previous one stays published (and verifying) until its tokens expire. Returns the new kid. */
  rotateSigningKey(): Promise<string>;
  /** Withdraws a key at once (a compromised key): tokens it signed stop verifying. A new key is made if it was the active one. */
  removeSigningKey(kid: string): Promise<boolean>;

  principalByObjectId(objectId: string): Promise<Principal | undefined>;
  principalByAppId(appId: string): Promise<Principal | undefined>;

  /** An application with its service principal and a first password (what AKS creates for a cluster). */
  createServicePrincipal(input: { displayName: string; directoryRoles?: string[]; passwordYears?: number }): Promise<{ principal: Principal; password: NewPassword }>;
  /** A user-assigned managed identity (a cluster's kubelet identity), with its own appId (clientId) and objectId. */
  createManagedIdentity(input: { displayName: string; resourceId: string }): Promise<Principal>;
  addPassword(appId: string, input: { displayName?: string; endDateTime?: string }): Promise<NewPassword>;
  /** Removes the application, its service principal and passwords (or the managed identity). */
  deletePrincipal(objectId: string): Promise<boolean>;
  /** Password credentials that end before the given time, for rotation reports. */
  expiringPasswords(before: Date): Promise<Array<{ principal: Principal; password: PasswordCredential }>>;
}

/* The directory as Graph shows it: applications, service principals and their password credentials. */

export interface Application {
  /** The object id. */
  id: string;
  appId: string;
  tenantId: string;
  displayName: string;
  description: string | null;
  identifierUris: string[];
  signInAudience: string;
  createdDateTime: string;
  passwordCredentials: PasswordCredential[];
}

export interface ServicePrincipal {
  /** The object id. */
  id: string;
  appId: string;
  tenantId: string;
  displayName: string;
  accountEnabled: boolean;
  servicePrincipalType: 'Application' | 'ManagedIdentity';
  /** The appId, the application's identifierUris and, for a display name such as `http://NAME`, that name. */
  servicePrincipalNames: string[];
  /** For a managed identity: `isExplicit=True` and its resource id, as Entra ID shows them. */
  alternativeNames: string[];
  createdDateTime: string;
  passwordCredentials: PasswordCredential[];
  directoryRoles: string[];
}

/** The `$filter` conditions the directory answers; Graph's HTTP layer parses OData into one of these. */
export type ApplicationFilter =
  | { displayName: string } | { displayNamePrefix: string } | { appId: string } | { identifierUri: string } | { id: string };
export type ServicePrincipalFilter =
  | { displayName: string } | { displayNamePrefix: string } | { appId: string } | { servicePrincipalName: string } | { id: string };

export interface ListQuery<F> {
  filter?: F;
  top: number;
  /** Where the previous page ended (opaque). */
  skipToken?: string;
}

export interface ListPage<T> {
  items: T[];
  /** Present when more items follow. */
  skipToken?: string;
}

export type CredentialOwner = { kind: 'application' | 'servicePrincipal'; id: string };

export type DirectoryObject = { type: 'application'; object: Application } | { type: 'servicePrincipal'; object: ServicePrincipal };

export class DirectoryError extends Error {
  constructor(readonly code: 'NotFound' | 'Conflict' | 'InvalidInput', message: string) {
    super(message);
  }
}

/** One tenant's directory. Methods throw DirectoryError for what the caller got wrong. */
export interface Directory {
  readonly tenantId: string;

  createApplication(input: { displayName: string; description?: string | null; identifierUris?: string[]; signInAudience?: string }): Promise<Application>;
  application(id: string): Promise<Application | undefined>;
  listApplications(query: ListQuery<ApplicationFilter>): Promise<ListPage<Application>>;
  updateApplication(id: string, patch: { displayName?: string; description?: string | null; identifierUris?: string[]; signInAudience?: string }): Promise<Application>;
  /** Deletes the application with its service principal and every password of either. */
  deleteApplication(id: string): Promise<boolean>;

  /** The service principal of an existing application of this tenant. */
  createServicePrincipal(input: { appId: string; accountEnabled?: boolean }): Promise<ServicePrincipal>;
  servicePrincipal(id: string): Promise<ServicePrincipal | undefined>;
  listServicePrincipals(query: ListQuery<ServicePrincipalFilter>): Promise<ListPage<ServicePrincipal>>;
  deleteServicePrincipal(id: string): Promise<boolean>;

  addPassword(owner: CredentialOwner, input: { displayName?: string | null; startDateTime?: string; endDateTime?: string }): Promise<NewPassword>;
  removePassword(owner: CredentialOwner, keyId: string): Promise<void>;

  /** The objects among `ids` that exist in this tenant, in the order asked. */
  objectsByIds(ids: string[]): Promise<DirectoryObject[]>;
}
