import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { containerdHostsToml } from '../../../src/kube/containerd-hosts.js';
import { certsDir, writeText } from '../../helpers/client-tools.js';
import { startContainerd } from '../../helpers/containerd-process.js';

const PROTO = fileURLToPath(new URL('../../../../test/kube/cri/api.proto', import.meta.url));

export interface CriAuth {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
}

export interface CriRuntime {
  version(): Promise<{ runtime_name: string; runtime_version: string; runtime_api_version: string }>;
  /** CRI ImageService/PullImage, as the kubelet calls it; rejects with the runtime's gRPC error. */
  pullImage(image: string, auth?: CriAuth): Promise<{ image_ref: string }>;
  listImages(): Promise<Array<{ id: string; repo_tags: string[]; repo_digests: string[] }>>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * containerd with its CRI plugin, as a kubelet's node runs it, but with its own root, state, socket and
 * certs.d under `work`. Only what image pulls need: no cgroups, AppArmor or OOM-score changes (the CRI plugin
 * would otherwise need a real node's privileges), the native snapshotter (it works on any filesystem), and an
 * empty CNI folder (the plugin logs that it has no network config, which only matters for pods). Each registry is
 * trusted through a certs.d entry: its CA, and a hosts.toml naming https.
 */
export async function startContainerdCri(work: string, registries: Array<{ host: string; caPath: string; hostsToml?: string }>): Promise<CriRuntime> {
  const socket = join(work, 'containerd.sock');
  const logPath = join(work, 'containerd.log');
  const hostsDir = join(work, 'certs.d');
  for (const { host, caPath, hostsToml } of registries) {
    const dir = await certsDir(hostsDir, host, caPath);
    // The entry `anchorage kube node-config` writes for a node when given, else the same made here.
    await writeText(join(dir, 'hosts.toml'), hostsToml ?? containerdHostsToml(host, ['pull', 'resolve']));
  }
  await mkdir(join(work, 'cni', 'net.d'), { recursive: true });
  await mkdir(join(work, 'cni', 'bin'), { recursive: true });
  const config = await writeText(join(work, 'config.toml'), [
    'version = 2',
    `root = "${join(work, 'root')}"`,
    `state = "${join(work, 'state')}"`,
    'disabled_plugins = [',
    '  "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",',
    '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.overlayfs",',
    '  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp",',
    ']',
    '[grpc]', `  address = "${socket}"`,
    '[ttrpc]', `  address = "${socket}.ttrpc"`,
    '[debug]', `  address = "${join(work, 'debug.sock')}"`, '  level = "info"',
    '[metrics]', '  address = ""',
    '[plugins."io.containerd.grpc.v1.cri"]',
    '  disable_cgroup = true',
    '  disable_apparmor = true',
    '  restrict_oom_score_adj = true',
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "native"',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    `    bin_dir = "${join(work, 'cni', 'bin')}"`,
    `    conf_dir = "${join(work, 'cni', 'net.d')}"`,
    '  [plugins."io.containerd.grpc.v1.cri".registry]',
    `    config_path = "${hostsDir}"`,
    '',
  ].join('\n'));

  const definition = loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const runtime = (loadPackageDefinition(definition) as unknown as { runtime: { v1: Record<string, new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client> } }).runtime.v1;
  const address = `unix://${socket}`;
  const images = new runtime['ImageService']!(address, credentials.createInsecure());
  const runtimeService = new runtime['RuntimeService']!(address, credentials.createInsecure());
  const call = <T>(client: Client, method: string, request: object, timeoutMs = 120_000): Promise<T> => new Promise((resolve, reject) => {
    (client as unknown as Record<string, (req: object, opts: object, cb: (err: ServiceError | null, res: T) => void) => void>)[method]!(
      request, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });

  const version = () => call<{ runtime_name: string; runtime_version: string; runtime_api_version: string }>(runtimeService, 'Version', { version: 'v1' }, 5_000);
  const closeClients = (): void => {
    images.close();
    runtimeService.close();
  };
  const containerd = await startContainerd(config, logPath, version).catch((err: unknown) => {
    closeClients();
    throw err;
  });
  return {
    version,
    pullImage: (image, auth) => call(images, 'PullImage', { image: { image }, ...(auth ? { auth } : {}) }),
    listImages: async () => (await call<{ images: Array<{ id: string; repo_tags: string[]; repo_digests: string[] }> }>(images, 'ListImages', {})).images,
    log: containerd.tail,
    async stop() {
      closeClients();
      await containerd.stop();
    },
  };
}
