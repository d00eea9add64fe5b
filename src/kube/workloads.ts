import { parseAllDocuments } from 'yaml';

/**
 * The objects of Kubernetes manifests the pull check reads: workloads (down to their pod template), Secrets
 * and ServiceAccounts, from multi-document YAML or JSON (a JSON document is YAML too), `List`s included.
 * Only the fields the kubelet's image pulls depend on are kept.
 */

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';

export interface PodTemplate {
  /** The workload: Pod, Deployment, ..., CronJob. */
  kind: string;
  name: string;
  namespace: string;
  serviceAccountName: string;
  /** The pod's own imagePullSecrets; empty when it names none. */
  imagePullSecrets: string[];
  containers: Array<{ name: string; image: string; kind: ContainerKind }>;
  /** Where it was read from, for reports. */
  file: string;
}

export interface SecretObject {
  namespace: string;
  name: string;
  type: string;
  /** Decoded `data` (base64) merged with `stringData`, as the API server stores them. */
  data: Record<string, string>;
}

export interface ServiceAccountObject {
  namespace: string;
  name: string;
  imagePullSecrets: string[];
}

export interface Manifests {
  pods: PodTemplate[];
  secrets: SecretObject[];
  serviceAccounts: ServiceAccountObject[];
}

export class ManifestError extends Error {}

const DEFAULT_NAMESPACE = 'default';

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export function readManifests(files: Array<{ name: string; text: string }>): Manifests {
  const result: Manifests = { pods: [], secrets: [], serviceAccounts: [] };
  for (const { name, text } of files) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new ManifestError(`${name}: ${doc.errors[0]!.message}`);
      const value: unknown = doc.toJS();
      if (value !== null && value !== undefined) add(result, value, name);
    }
  }
  return result;
}

function add(result: Manifests, value: unknown, file: string): void {
  if (!isObject(value)) throw new ManifestError(`${file}: a document is not a Kubernetes object`);
  const kind = str(value['kind']);
  // What the API server would refuse, kubectl apply included, is refused here rather than checked as nothing.
  if (!kind) throw new ManifestError(`${file}: a document has no kind: it is not a Kubernetes object`);
  if (kind.endsWith('List') && Array.isArray(value['items'])) {
    for (const item of value['items']) add(result, item, file);
    return;
  }
  const metadata = isObject(value['metadata']) ? value['metadata'] : {};
  const name = str(metadata['name']) || str(metadata['generateName']) || '(unnamed)';
  const namespace = str(metadata['namespace']) || DEFAULT_NAMESPACE;
  if (kind === 'Secret') {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(isObject(value['data']) ? value['data'] : {})) data[k] = Buffer.from(str(v), 'base64').toString('utf8');
    for (const [k, v] of Object.entries(isObject(value['stringData']) ? value['stringData'] : {})) data[k] = str(v);
    result.secrets.push({ namespace, name, type: str(value['type']) || 'Opaque', data });
  } else if (kind === 'ServiceAccount') {
    result.serviceAccounts.push({ namespace, name, imagePullSecrets: references(value['imagePullSecrets']) });
  } else if (POD_SPEC_PATH[kind]) {
    let spec: unknown = value;
    for (const key of POD_SPEC_PATH[kind]) spec = isObject(spec) ? spec[key] : undefined;
    if (!isObject(spec)) throw new ManifestError(`${file}: ${kind} ${namespace}/${name} has no pod spec at ${POD_SPEC_PATH[kind].join('.')}`);
    const where = `${file}: ${kind} ${namespace}/${name}: ${POD_SPEC_PATH[kind].join('.')}`;
    if (!Array.isArray(spec['containers']) || spec['containers'].length === 0) throw new ManifestError(`${where}.containers: Required value`);
    const containers: PodTemplate['containers'] = [];
    for (const [field, containerKind] of [['initContainers', 'initContainer'], ['containers', 'container'], ['ephemeralContainers', 'ephemeralContainer']] as const) {
      const list = spec[field];
      for (const [i, c] of (Array.isArray(list) ? list : []).entries()) {
        if (!isObject(c) || !str(c['image'])) throw new ManifestError(`${where}.${field}[${i}].image: Required value`);
        containers.push({ name: str(c['name']), image: str(c['image']), kind: containerKind });
      }
    }
    result.pods.push({
      kind, name, namespace, file, containers,
      // serviceAccount is the deprecated alias the API server still honours when serviceAccountName is empty.
      serviceAccountName: str(spec['serviceAccountName']) || str(spec['serviceAccount']) || 'default',
      imagePullSecrets: references(spec['imagePullSecrets']),
    });
  }
}

/** `[{name: x}, ...]` → names; empty names are skipped, as the kubelet skips them. */
function references(value: unknown): string[] {
  return (Array.isArray(value) ? value : []).map((r) => (isObject(r) ? str(r['name']) : '')).filter((n) => n !== '');
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
