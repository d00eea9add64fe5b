import { AUDIENCES } from '../identity/types.js';

/** The name `az cloud register` and ARM_CLOUD_METADATA_URL users see for this server's cloud. */
export const CLOUD_NAME = 'Anchorage';

export interface CloudEndpointsInput {
  publicUrl: string;
  /** With a registry domain, login servers are NAME.DOMAIN; without, they are loopback ports and no suffix fits. */
  registryDomain: string | undefined;
}

/**
 * `/metadata/endpoints`, in the two shapes clients read. msrestazure (`az cloud register
 * --endpoint-resource-manager`) asks with api-version 2015-01-01 and reads the object form's graphEndpoint,
 * authentication.loginEndpoint and audiences[0]; azure-cli's ARM_CLOUD_METADATA_URL asks with 2019-05-01 and
 * maps an array of clouds (`_arm_to_cli_mapper`: name, resourceManager, authentication, graphAudience,
 * microsoftGraphResourceId, suffixes.acrLoginServer, ...). The authority is ADFS-style (`/adfs`), which is how
 * az 2.45 logs in without MSAL's instance discovery on the Internet. Token audiences stay the public cloud's,
 * which the identity plane issues; resource manager and Graph are this server.
 */
export function cloudMetadata(apiVersion: string | null, input: CloudEndpointsInput): unknown {
  const base = `${input.publicUrl}/`;
  const loginEndpoint = `${input.publicUrl}/adfs`;
  const audiences = [...AUDIENCES.arm];
  if (apiVersion === null || apiVersion < '2019-05-01') {
    return { galleryEndpoint: base, graphEndpoint: base, portalEndpoint: base, authentication: { loginEndpoint, audiences } };
  }
  return [{
    name: CLOUD_NAME,
    portal: base,
    resourceManager: base,
    gallery: base,
    graph: base,
    graphAudience: base,
    microsoftGraphResourceId: base,
    authentication: { loginEndpoint, audiences, tenant: 'adfs', identityProvider: 'ADFS' },
    suffixes: {
      acrLoginServer: input.registryDomain ? `.${input.registryDomain}` : '.localhost',
      storage: 'core.windows.net',
      keyVaultDns: 'vault.azure.net',
    },
  }];
}
