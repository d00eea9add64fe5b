import { dockerConfigJson, type RegistryLogin } from './docker-config.js';
import { goJsonIndent } from './go-json.js';

/**
 * The Secret `kubectl create secret docker-registry NAME --docker-server S --docker-username U
 * --docker-password P [--docker-email E] [-n NS] --dry-run=client -o yaml|json` prints, byte for byte
 * (kubectl 1.32): JSON in the Go struct's field order with four-space indents; YAML through sigs.k8s.io/yaml,
 * so keys sorted and scalars quoted only where YAML would read them as something other than a string.
 */

export type ManifestFormat = 'yaml' | 'json';

export interface SecretSpec {
  name: string;
  namespace?: string | undefined;
  server: string;
  login: RegistryLogin;
}

export class ManifestInputError extends Error {}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Secret's name and namespace as the API server checks them: before any credential is made for the Secret. */
export function checkSecretMetadata(name: string, namespace: string | undefined): void {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new ManifestInputError(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
  }
  if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    throw new ManifestInputError(`metadata.namespace: Invalid value: "${namespace}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`);
  }
}

/** What the API server would refuse on apply is refused here, in its words, so the printed manifest always applies. */
export function checkSecretSpec(spec: SecretSpec): void {
  checkSecretMetadata(spec.name, spec.namespace);
  if (!spec.login.username || !spec.login.password) {
    throw new ManifestInputError('either --from-file or the combination of --docker-username, --docker-password and --docker-server is required');
  }
}

/** One Secret in kubectl's output format, ending with a newline as kubectl's does. */
export function renderSecret(spec: SecretSpec, format: ManifestFormat): string {
  checkSecretSpec(spec);
  const data = Buffer.from(dockerConfigJson(spec.server, spec.login), 'utf8').toString('base64');
  if (format === 'json') {
    const metadata: Record<string, string | null> = { name: spec.name };
    if (spec.namespace !== undefined) metadata['namespace'] = spec.namespace;
    metadata['creationTimestamp'] = null;
    return `${goJsonIndent({
      kind: 'Secret', apiVersion: 'v1', metadata, data: { '.dockerconfigjson': data }, type: 'kubernetes.io/dockerconfigjson',
    })}\n`;
  }
  return [
    'apiVersion: v1',
    'data:',
    `  .dockerconfigjson: ${data}`,
    'kind: Secret',
    'metadata:',
    '  creationTimestamp: null',
    `  name: ${yamlScalar(spec.name)}`,
    ...(spec.namespace !== undefined ? [`  namespace: ${yamlScalar(spec.namespace)}`] : []),
    'type: kubernetes.io/dockerconfigjson',
    '',
  ].join('\n');
}

/** Several Secrets (one per namespace) as one stream `kubectl apply -f -` reads: YAML documents split by `---`, JSON objects one after another. */
export function renderSecrets(specs: readonly SecretSpec[], format: ManifestFormat): string {
  return specs.map((s) => renderSecret(s, format)).join(format === 'yaml' ? '---\n' : '');
}

/**
 * A DNS name as go-yaml writes it: plain, unless YAML would resolve it to a non-string (an integer in any base,
 * a float, a boolean such as y/n/on/off, null, or a date), in which case it is double-quoted. Names are checked
 * as RFC 1123 before they get here, so no other quoting rule can apply.
 */
export function yamlScalar(value: string): string {
  return resolvesToNonString(value) ? `"${value}"` : value;
}

const NON_STRING = [
  /^[-+]?[0-9]+$/, // decimal (and leading-zero) integers
  /^0x[0-9a-f]+$/, /^0o[0-7]+$/, /^0b[01]+$/,
  /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)(e[-+]?[0-9]+)?$/, // floats
  /^(y|n|yes|no|on|off|true|false|null)$/,
];

function resolvesToNonString(value: string): boolean {
  if (NON_STRING.some((r) => r.test(value))) return true;
  const date = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value);
  if (!date) return false;
  const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
