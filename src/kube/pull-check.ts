import type { NodeConfig } from './credential-provider/node-identity.js';
import { API_VERSIONS, CredentialProviderError, type CredentialProviderResponse } from './credential-provider/protocol.js';
import { provideCredentials } from './credential-provider/provider.js';
import { DockerConfigError, parseDockerConfigJson, parseDockercfg, type DockerConfigEntry } from './docker-config.js';
import type { HttpClient } from './http-client.js';
import { InvalidImageNameError, parseImageReference, type ImageReference } from './image-reference.js';
import { BasicDockerKeyring, lookupAll, urlsMatch, type CredentialSource, type TrackedCredential } from './keyring.js';
import { PROVIDER_NAME } from './node-config.js';
import { refusalReason, tryPull, type Platform, type PullAttempt } from './registry-pull.js';
import type { ContainerKind, Manifests, PodTemplate, SecretObject } from './workloads.js';

/**
 * What the kubelet would do with each image of each workload: the pull secrets it would use (the pod's, else
 * its ServiceAccount's as admission copies them), the node's own docker config, then the credential provider
 * when the image matches its matchImages; every matching credential in the keyring's order, tried one after
 * another until a pull succeeds. A failure carries the kubelet's error and, for each credential the registry
 * refused, the registry's own reason.
 */

export interface NodeCredentials {
  /** The node's docker config.json (`--root-dir`/config.json on a kubelet), already parsed. */
  dockerConfig?: { file: string; entries: DockerConfigEntry[] };
  /** The credential provider's node configuration (azure.json); its containerRegistryServers are the provider's matchImages. */
  provider?: NodeConfig;
}

export interface ContainerResult {
  workload: string;
  namespace: string;
  container: string;
  containerKind: ContainerKind;
  image: string;
  outcome: 'pulled' | 'failed';
  /** The kubelet's reason when it failed: ErrImagePull or InvalidImageName. */
  reason?: 'ErrImagePull' | 'InvalidImageName';
  /** The kubelet's message when it failed. */
  message?: string;
  /** Which credential pulled it: `secret NS/NAME`, `node FILE`, `provider NAME`, or `anonymous`. */
  pulledWith?: string;
  manifestDigest?: string;
  /** Why it failed, one line per credential tried (or why none was). */
  why: string[];
  /** The kubelet's warnings for the pod (missing pull secrets) and the provider's errors. */
  warnings: string[];
}

export interface PullCheckInput {
  manifests: Manifests;
  node: NodeCredentials;
  platform: Platform;
  http: HttpClient;
}

export async function checkPulls(input: PullCheckInput): Promise<ContainerResult[]> {
  const { manifests, node, platform, http } = input;
  const secrets = new Map(manifests.secrets.map((s) => [`${s.namespace}/${s.name}`, s]));
  const accounts = new Map(manifests.serviceAccounts.map((a) => [`${a.namespace}/${a.name}`, a]));
  const nodeKeyring = new BasicDockerKeyring();
  if (node.dockerConfig) nodeKeyring.add(node.dockerConfig.entries, { kind: 'node', file: node.dockerConfig.file });
  const attempts = new Map<string, Promise<PullAttempt>>();
  const attempt = (ref: ImageReference, credential: TrackedCredential | undefined): Promise<PullAttempt> => {
    const key = `${ref.pullSpec}\u0000${credential?.username ?? ''}\u0000${credential?.password ?? ''}`;
    if (!attempts.has(key)) attempts.set(key, tryPull(http, ref, credential && { username: credential.username, password: credential.password }, platform));
    return attempts.get(key)!;
  };

  // The provider answers with cacheKeyType Registry, so the kubelet asks it once per registry; so does the check.
  const providerAnswers = new Map<string, Promise<CredentialProviderResponse>>();
  const results: ContainerResult[] = [];
  for (const pod of manifests.pods) {
    const { names, warnings } = pullSecretsOf(pod, accounts);
    const found: SecretObject[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const secret = secrets.get(`${pod.namespace}/${name}`);
      if (secret) found.push(secret);
      else missing.push(name);
    }
    if (missing.length) warnings.push(`FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
    let podKeyring: BasicDockerKeyring | Error;
    try {
      podKeyring = keyringOf(found);
    } catch (err) {
      if (!(err instanceof DockerConfigError)) throw err;
      podKeyring = err;
    }
    for (const container of pod.containers) {
      const base = {
        workload: `${pod.kind}/${pod.name}`, namespace: pod.namespace, container: container.name, containerKind: container.kind, image: container.image,
        warnings: [...warnings],
      };
      let ref: ImageReference;
      try {
        ref = parseImageReference(container.image);
      } catch (err) {
        if (!(err instanceof InvalidImageNameError)) throw err;
        results.push({ ...base, outcome: 'failed', reason: 'InvalidImageName', message: err.message, why: ['the image reference does not parse'] });
        continue;
      }
      if (podKeyring instanceof Error) {
        results.push({ ...base, outcome: 'failed', reason: 'ErrImagePull', message: podKeyring.message, why: [`a pull secret of the pod does not parse: ${podKeyring.message}`] });
        continue;
      }
      const providerKeyring = await providerKeyringFor(ref, node.provider, providerAnswers, base.warnings);
      const credentials = lookupAll([podKeyring, nodeKeyring, providerKeyring], ref.repoToPull);
      results.push({ ...base, ...await pullWith(http, ref, credentials, attempt, { names, missing }) });
    }
  }
  return results;
}

/** The pod's imagePullSecrets; when it names none, its ServiceAccount's (what admission copies into the pod). */
function pullSecretsOf(pod: PodTemplate, accounts: Map<string, { imagePullSecrets: string[] }>): { names: string[]; warnings: string[] } {
  if (pod.imagePullSecrets.length > 0) return { names: pod.imagePullSecrets, warnings: [] };
  const account = accounts.get(`${pod.namespace}/${pod.serviceAccountName}`);
  if (!account) {
    return { names: [], warnings: pod.serviceAccountName === 'default' ? [] : [`service account ${pod.namespace}/${pod.serviceAccountName} is not in the files given: its imagePullSecrets are not known`] };
  }
  return { names: account.imagePullSecrets, warnings: [] };
}

/** The kubelet reads only these two secret types, each by its own key; other secrets are silently skipped. */
function keyringOf(secrets: SecretObject[]): BasicDockerKeyring {
  const keyring = new BasicDockerKeyring();
  for (const s of secrets) {
    const source: CredentialSource = { kind: 'secret', namespace: s.namespace, name: s.name };
    const json = s.data['.dockerconfigjson'];
    const cfg = s.data['.dockercfg'];
    if (s.type === 'kubernetes.io/dockerconfigjson' && json) keyring.add(parseDockerConfigJson(json), source);
    else if (s.type === 'kubernetes.io/dockercfg' && cfg) keyring.add(parseDockercfg(cfg), source);
  }
  return keyring;
}

/** The provider's answer for this image, when the image matches its matchImages; a provider error leaves it out, as the kubelet logs and goes on. */
async function providerKeyringFor(
  ref: ImageReference, provider: NodeConfig | undefined, answers: Map<string, Promise<CredentialProviderResponse>>, warnings: string[],
): Promise<BasicDockerKeyring> {
  const keyring = new BasicDockerKeyring();
  if (!provider || !provider.registries.some((pattern) => urlsMatch(pattern, ref.repoToPull))) return keyring;
  try {
    if (!answers.has(ref.registry)) answers.set(ref.registry, provideCredentials({ apiVersion: API_VERSIONS[0], kind: 'CredentialProviderRequest', image: ref.repoToPull }, provider));
    const response = await answers.get(ref.registry)!;
    keyring.add(Object.entries(response.auth ?? {}).map(([key, a]) => ({ key, username: a.username, password: a.password, email: '' })), { kind: 'provider', name: PROVIDER_NAME });
  } catch (err) {
    if (!(err instanceof CredentialProviderError)) throw err;
    warnings.push(`the credential provider failed: ${err.message}`);
  }
  return keyring;
}

async function pullWith(
  http: HttpClient, ref: ImageReference, credentials: TrackedCredential[],
  attempt: (ref: ImageReference, credential: TrackedCredential | undefined) => Promise<PullAttempt>,
  secrets: { names: string[]; missing: string[] },
): Promise<Omit<ContainerResult, 'workload' | 'namespace' | 'container' | 'containerKind' | 'image' | 'warnings'>> {
  if (credentials.length === 0) {
    const result = await attempt(ref, undefined);
    if (result.ok) return { outcome: 'pulled', pulledWith: 'anonymous', manifestDigest: result.manifestDigest, why: [] };
    const why = [`no credential matched ${ref.repoToPull}${describeSources(secrets)}`];
    const refused = result.status === 401 || result.status === 403 ? await refusalReason(http, ref, undefined) : undefined;
    if (refused ?? result.registryMessage) why.push(`the registry answered the anonymous pull: ${refused ?? result.registryMessage}`);
    return { outcome: 'failed', reason: 'ErrImagePull', message: kubeletMessage(ref, [result]), why };
  }
  const failures: PullAttempt[] = [];
  const why: string[] = [];
  for (const credential of credentials) {
    const result = await attempt(ref, credential);
    if (result.ok) return { outcome: 'pulled', pulledWith: describe(credential), manifestDigest: result.manifestDigest, why };
    failures.push(result);
    const refused = result.status === 401 || result.status === 403 ? await refusalReason(http, ref, credential) : undefined;
    why.push(`${describe(credential)}: ${refused ?? result.registryMessage ?? result.message}`);
  }
  return { outcome: 'failed', reason: 'ErrImagePull', message: kubeletMessage(ref, failures), why };
}

/** The kubelet's event text: one CRI error, or the aggregate of several (`[a, b]`). */
function kubeletMessage(ref: ImageReference, failures: PullAttempt[]): string {
  const errors = failures.map((f) => (f.ok ? '' : `rpc error: code = ${f.code} desc = ${f.message}`));
  return `Failed to pull image "${ref.image}": ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`;
}

function describe(credential: TrackedCredential): string {
  const s = credential.source;
  const where = s.kind === 'secret' ? `secret ${s.namespace}/${s.name}` : s.kind === 'node' ? `node ${s.file}` : `provider ${s.name}`;
  return `${where} (user ${credential.username}, key ${credential.key})`;
}

function describeSources(secrets: { names: string[]; missing: string[] }): string {
  if (secrets.names.length === 0) return ': the pod has no image pull secrets, and neither the node nor a credential provider has credentials for it';
  const present = secrets.names.filter((n) => !secrets.missing.includes(n));
  return `: ${present.length ? `pull secrets ${present.join(', ')} have no entry for it` : 'no pull secret was found'}${secrets.missing.length ? `; missing: ${secrets.missing.join(', ')}` : ''}`;
}
