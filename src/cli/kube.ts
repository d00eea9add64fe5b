import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIG_OPTIONS, loadConfig, type Config, type ConfigFlags } from '../config/config.js';
import { parseAzureJson } from '../kube/credential-provider/node-identity.js';
import { parseDockerConfigJson } from '../kube/docker-config.js';
import { expiringCredentials } from '../kube/expiring.js';
import { HttpClient } from '../kube/http-client.js';
import { checkPulls, type ContainerResult, type NodeCredentials } from '../kube/pull-check.js';
import { readManifests } from '../kube/workloads.js';
import { makeNodeConfig, NODE_PATHS, PROVIDER_NAME } from '../kube/node-config.js';
import { pullSecretCredentials, type CredentialSourceInput } from '../kube/pull-secret-credentials.js';
import { checkSecretMetadata, renderSecrets, type ManifestFormat } from '../kube/secret-manifest.js';
import { openAnchorage, requireDataFolder } from '../server/anchorage.js';
import { parseDuration } from './output.js';
import { text as readStream } from 'node:stream/consumers';

export const KUBE_USAGE = `usage: anchorage kube <command> [options]

commands:
  node-config --cluster NAME --resource-group RG --output-dir DIR [--subscription ID] [--reset-credentials]
      azure.json, credential-provider-config.yaml and the kubelet flags for a node of the cluster
  pull-secret --registry NAME --name SECRET [-o yaml|json] [--namespace NS]... [--service-account SA]
      [--username U --password P [--email E] | --create-service-principal SPNAME [--years N] | --repository PREFIX... [--years N]]
      a Secret byte-identical to kubectl create secret docker-registry --dry-run=client; expiry on stderr
  expiring [--within 30d]
      service principal passwords and registry token passwords that expire soon, with what they grant
  check -f FILE... [--secrets FILE]... [--node-config AZURE_JSON] [--docker-config FILE] [--platform linux/amd64]
      [--ca-cert FILE] [--output text|json]
      what the kubelet would do with every image of the workloads, and why a pull would fail`;

const KUBE_OPTIONS = {
  ...CONFIG_OPTIONS,
  help: { type: 'boolean', short: 'h' },
  cluster: { type: 'string' },
  'resource-group': { type: 'string' },
  subscription: { type: 'string' },
  'output-dir': { type: 'string' },
  'reset-credentials': { type: 'boolean' },
  registry: { type: 'string' },
  name: { type: 'string' },
  output: { type: 'string', short: 'o' },
  namespace: { type: 'string', short: 'n', multiple: true },
  'service-account': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  email: { type: 'string' },
  'create-service-principal': { type: 'string' },
  repository: { type: 'string', multiple: true },
  years: { type: 'string' },
  within: { type: 'string' },
  filename: { type: 'string', short: 'f', multiple: true },
  secrets: { type: 'string', multiple: true },
  'node-config': { type: 'string' },
  'docker-config': { type: 'string' },
  platform: { type: 'string' },
  'ca-cert': { type: 'string' },
} as const;

type KubeFlags = ReturnType<typeof parseKubeArgs>['values'];

function parseKubeArgs(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: KUBE_OPTIONS });
}

/** `anchorage kube ...`: the Kubernetes side. Commands that make or read credentials work on the data folder. */
export async function kubeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseKubeArgs(argv);
  const [command] = positionals;
  if (values.help || !command) {
    console.log(KUBE_USAGE);
    return;
  }
  const config = loadConfig(values as ConfigFlags);
  if (command !== 'check') requireDataFolder(config);
  switch (command) {
    case 'node-config': return nodeConfig(config, values);
    case 'pull-secret': return pullSecret(config, values);
    case 'expiring': return expiring(config, values);
    case 'check': return check(config, values);
    default: throw new Error(`unknown kube command ${JSON.stringify(command)}\n\n${KUBE_USAGE}`);
  }
}

function required(values: KubeFlags, name: keyof KubeFlags & string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} is required\n\n${KUBE_USAGE}`);
  return v;
}

async function nodeConfig(config: Config, values: KubeFlags): Promise<void> {
  const dir = required(values, 'output-dir');
  const caPath = join(config.dataDir, 'tls', 'ca.crt');
  const app = await openAnchorage(config);
  try {
    const files = await makeNodeConfig(app, {
      cluster: required(values, 'cluster'), resourceGroup: required(values, 'resource-group'), subscriptionId: values.subscription,
      caCertificate: config.tls && existsSync(caPath) ? readFileSync(caPath, 'utf8') : undefined, resetCredentials: values['reset-credentials'] ?? false,
    });
    mkdirSync(dir, { recursive: true });
    const azureJson = join(dir, 'azure.json');
    // It holds the cluster identity's secret: readable by root only, as on an AKS node.
    writeFileSync(azureJson, `${JSON.stringify(files.azureJson, null, 2)}\n`, { mode: 0o600 });
    chmodSync(azureJson, 0o600);
    writeFileSync(join(dir, 'credential-provider-config.yaml'), files.providerConfig);
    writeFileSync(join(dir, 'kubelet-flags'), `${files.kubeletFlags.join(' ')}\n`);
    for (const { host, hostsToml } of files.containerdHosts) {
      mkdirSync(join(dir, 'certs.d', host), { recursive: true });
      writeFileSync(join(dir, 'certs.d', host, 'hosts.toml'), hostsToml);
      writeFileSync(join(dir, 'certs.d', host, 'ca.crt'), files.azureJson.caCertificate!);
    }
    for (const note of files.notes) console.error(`note: ${note}`);
    console.log([
      `wrote ${azureJson} (mode 0600), ${join(dir, 'credential-provider-config.yaml')} and ${join(dir, 'kubelet-flags')}`,
      'registries the node asks credentials for:',
      ...files.registries.map((r) => `  ${r.loginServer} (${r.name}): ${r.canPull ? 'can pull' : 'cannot pull yet'} — ${r.reason}`),
      'on the node:',
      `  install -D -m 0600 ${azureJson} ${NODE_PATHS.azureJson}`,
      `  install -D -m 0644 ${join(dir, 'credential-provider-config.yaml')} ${NODE_PATHS.providerConfig}`,
      `  install -d ${NODE_PATHS.providerBinDir} && ln -sf "$(command -v ${PROVIDER_NAME})" ${NODE_PATHS.providerBinDir}/${PROVIDER_NAME}`,
      ...(files.containerdHosts.length ? [
        `  cp -r ${join(dir, 'certs.d')}/. /etc/containerd/certs.d/   # containerd's CRI registry config_path must be /etc/containerd/certs.d`,
      ] : []),
      'kubelet flags to add:',
      ...files.kubeletFlags.map((f) => `  ${f}`),
    ].join('\n'));
  } finally {
    app.close();
  }
}

async function pullSecret(config: Config, values: KubeFlags): Promise<void> {
  const format = (values.output ?? 'yaml') as ManifestFormat;
  if (format !== 'yaml' && format !== 'json') throw new Error(`-o must be yaml or json, not ${JSON.stringify(values.output)}`);
  const name = required(values, 'name');
  const years = values.years === undefined ? 1 : Number(values.years);
  if (!(years > 0 && years <= 100)) throw new Error(`--years must be a number of years from 0 to 100, not ${JSON.stringify(values.years)}`);
  const namespaces = values.namespace ?? [undefined];
  // Checked before anything is made: a credential created for a Secret that cannot be printed would be left behind.
  for (const namespace of namespaces) checkSecretMetadata(name, namespace);
  if (values['create-service-principal'] === '') throw new Error('--create-service-principal needs a name');
  const modes = [values.username !== undefined || values.password !== undefined, values['create-service-principal'] !== undefined, values.repository !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new Error('give exactly one of: --username and --password, --create-service-principal SPNAME, --repository PREFIX');
  const source: CredentialSourceInput = values['create-service-principal'] !== undefined
    ? { kind: 'servicePrincipal', displayName: values['create-service-principal'], years, email: values.email }
    : values.repository !== undefined
      ? { kind: 'repositoryToken', tokenName: `pull-${name.replace(/\./g, '-')}`.slice(0, 50), repositories: values.repository.map((r) => (r.endsWith('/') ? `${r}*` : r)), years, email: values.email }
      : { kind: 'existing', login: { username: required(values, 'username'), password: required(values, 'password'), email: values.email } };
  const app = await openAnchorage(config);
  try {
    const credentials = await pullSecretCredentials(app, required(values, 'registry'), source);
    process.stdout.write(renderSecrets(namespaces.map((namespace) => ({ name, namespace, server: credentials.loginServer, login: credentials.login })), format));
    for (const line of credentials.created) console.error(`created ${line}`);
    console.error(credentials.expires ? `the credential expires on ${credentials.expires}` : 'the credential\'s expiry is not known to this server');
    const sa = values['service-account'];
    if (sa) {
      // ServiceAccount.imagePullSecrets has no merge key, so a strategic-merge patch replaces the list: the JSON patch appends instead.
      const patch = JSON.stringify({ imagePullSecrets: [{ name }] });
      const append = JSON.stringify([{ op: 'add', path: '/imagePullSecrets/-', value: { name } }]);
      for (const namespace of namespaces) {
        const ns = namespace ? ` -n ${namespace}` : '';
        console.error(`to add it to service account ${sa}${namespace ? ` in ${namespace}` : ''}: kubectl patch serviceaccount ${sa}${ns} -p '${patch}'`);
        console.error(`  (that sets the list; if ${sa} already names pull secrets, append instead: kubectl patch serviceaccount ${sa}${ns} --type=json -p '${append}')`);
      }
    }
  } finally {
    app.close();
  }
}

async function expiring(config: Config, values: KubeFlags): Promise<void> {
  const within = parseDuration(values.within ?? '30d');
  const app = await openAnchorage(config);
  try {
    const found = await expiringCredentials(app, new Date(Date.now() + within));
    if (found.length === 0) {
      console.log(`nothing expires within ${values.within ?? '30d'}`);
      return;
    }
    for (const c of found) {
      const when = `${c.expired ? 'EXPIRED' : 'expires'} ${c.endDateTime}`;
      if (c.kind === 'password') {
        const roles = c.roles.length ? c.roles.map((r) => `${r.role} at ${r.scope}`).join('; ') : 'no role assignments';
        console.log(`${when}\tpassword ${c.keyId} (${c.hint}...) of ${c.displayName} (appId ${c.appId})\t${roles}`);
      } else {
        console.log(`${when}\t${c.password} of token ${c.token} on ${c.loginServer}\tscope map ${c.scopeMap}: ${c.actions.join(', ') || 'no actions'}`);
      }
    }
  } finally {
    app.close();
  }
}

async function check(config: Config, values: KubeFlags): Promise<void> {
  const files = values.filename ?? [];
  if (files.length === 0) throw new Error(`check needs at least one -f FILE (- for stdin)\n\n${KUBE_USAGE}`);
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new Error(`--output must be text or json, not ${JSON.stringify(output)}`);
  const [os, architecture, variant] = (values.platform ?? 'linux/amd64').split('/');
  if (!os || !architecture) throw new Error(`--platform must be OS/ARCH[/VARIANT], not ${JSON.stringify(values.platform)}`);
  const read = async (file: string): Promise<{ name: string; text: string }> => ({ name: file, text: file === '-' ? await readStream(process.stdin) : readFileSync(file, 'utf8') });
  const manifests = readManifests(await Promise.all([...files, ...(values.secrets ?? [])].map(read)));
  const node: NodeCredentials = {};
  if (values['node-config']) node.provider = parseAzureJson(readFileSync(values['node-config'], 'utf8'), values['node-config']);
  if (values['docker-config']) node.dockerConfig = { file: values['docker-config'], entries: parseDockerConfigJson(readFileSync(values['docker-config'], 'utf8')) };
  // The registries' CA: as given, else the node's (azure.json), else this data folder's own local CA.
  const localCa = join(config.dataDir, 'tls', 'ca.crt');
  const ca = values['ca-cert'] ? readFileSync(values['ca-cert'], 'utf8') : node.provider?.ca ?? (existsSync(localCa) ? readFileSync(localCa, 'utf8') : undefined);
  const http = new HttpClient(ca);
  let results: ContainerResult[];
  try {
    results = await checkPulls({ manifests, node, platform: { os, architecture, variant }, http });
  } finally {
    http.close();
  }
  if (output === 'json') console.log(JSON.stringify({ platform: values.platform ?? 'linux/amd64', results }, null, 2));
  else console.log(results.map(formatResult).join('\n') || 'no containers in the files given');
  if (results.some((r) => r.outcome === 'failed')) process.exitCode = 1;
}

function formatResult(r: ContainerResult): string {
  const head = `${r.namespace}/${r.workload} ${r.containerKind} ${r.container}: ${r.image}`;
  const lines = r.outcome === 'pulled'
    ? [`${head}\n  pulled ${r.manifestDigest} with ${r.pulledWith}`, ...r.why.map((w) => `  refused first: ${w}`)]
    : [`${head}\n  ${r.reason}: ${r.message}`, ...r.why.map((w) => `  why: ${w}`)];
  return [...lines, ...r.warnings.map((w) => `  warning: ${w}`)].join('\n');
}
