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

/** Why a credential or token was refused, in words that can be shown to the caller. */
export class IdentityError extends Error {
  constructor(
    readonly reason: 'unknown_client' | 'invalid_secret' | 'expired_secret' | 'invalid_token' | 'expired_token' | 'wrong_audience' | 'unknown_principal',
    message: string,
  ) {
    super(message);
  }
}

export interface IdentityService {
  readonly defaultTenantId: string;

  /** Verifies an identity-plane access token: signature (by kid, RS256 only), issuer, audience (one of `audiences`), nbf/exp. */
  verifyAccessToken(token: string, audiences: readonly string[]): Promise<VerifiedToken>;
  /** Checks an application's client secret in constant time against its unexpired passwords; throws IdentityError. */
  checkClientSecret(appId: string, secret: string): Promise<Principal>;
  /** Signs an access token for a principal and audience (client-credentials grant, managed identity endpoint). */
  issueAccessToken(principal: Principal, audience: string): Promise<{ accessToken: string; expiresIn: number }>;

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
