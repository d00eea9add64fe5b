import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startContainerd, type ContainerdProcess } from '../../helpers/containerd-process.js';
import { certsDir, hostOf, memoryLog, pushLayout, run, send, writeText, type MemoryLog } from '../../helpers/client-tools.js';
import { archiveLayout, buildImageLayout, buildMultiArchLayout, sha256, type Image, type ImageLayout } from '../../helpers/oci-image.js';
import { containerdHostsToml } from '../../../src/kube/containerd-hosts.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** The containerd namespace the test's images live in. */
const NAMESPACE = 'anchorage-test';
/** A second namespace, whose content has never been pulled from the registry. */
const IMPORT_NAMESPACE = 'anchorage-import';

/**
 * containerd, started by the test with its own root, state, sockets and config under a temporary folder, pulls
 * from a TLS server through the local CA with `ctr images pull --hosts-dir`. The images are pushed by the test's
 * own HTTPS client, so this test does not lean on skopeo.
 *
 * Snapshots use the native snapshotter: it copies instead of mounting, so unpacking works on any filesystem
 * (overlayfs fails when the temporary folder is itself on overlayfs, as in many CI containers) and the unpacked
 * files can be read straight from the snapshot folders.
 */
describe('containerd: ctr images pull from the registry over HTTPS with the local CA', () => {
  let server: TestServer;
  let log: MemoryLog;
  let work: string;
  let single: ImageLayout;
  let multi: ImageLayout;
  let host: string;
  let hostsDir: string;
  let socket: string;
  let containerd: ContainerdProcess | undefined;
  const ctrIn = async (namespace: string, ...args: string[]) => {
    try {
      return await run('ctr', ['--address', socket, '--namespace', namespace, ...args], { serverLog: log });
    } catch (err) {
      (err as Error).message += `\n--- containerd log (last lines) ---\n${containerd?.tail() ?? '(containerd not started)'}`;
      throw err;
    }
  };
  const ctr = (...args: string[]) => ctrIn(NAMESPACE, ...args);
  /** The registry's admin user, as `ctr --user` passes credentials. */
  const user = (): string[] => ['--user', `${server.credentials.username}:${server.credentials.password}`];
  const pull = (ref: string, ...flags: string[]) => ctr('images', 'pull', '--snapshotter', 'native', '--hosts-dir', hostsDir, ...user(), ...flags, ref);

  before(async () => {
    log = memoryLog();
    server = await startTestServer({ tls: true, logger: log.logger });
    host = hostOf(server.registryUrl);
    work = await mkdtemp(join(tmpdir(), 'anchorage-containerd-'));
    socket = join(work, 'containerd.sock');

    // certs.d/<host:port>/ca.crt as `anchorage trust` lays it out, plus a hosts.toml that names the https endpoint:
    // with certificate files alone, containerd 1.6 talks plain HTTP to a localhost registry.
    hostsDir = join(work, 'certs.d');
    const hostDir = await certsDir(hostsDir, host, server.caPath!);
    await writeText(join(hostDir, 'hosts.toml'), containerdHostsToml(host, ['pull', 'resolve', 'push']));

    const config = await writeText(join(work, 'config.toml'), [
      'version = 2',
      `root = "${join(work, 'root')}"`,
      `state = "${join(work, 'state')}"`,
      // Only what pulling needs. CRI would want a CNI setup; opt writes to /opt/containerd; the other snapshotters
      // need kernel modules or filesystems of their own.
      'disabled_plugins = [',
      '  "io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",',
      '  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",',
      '  "io.containerd.snapshotter.v1.overlayfs",',
      ']',
      '[grpc]', `  address = "${socket}"`,
      '[ttrpc]', `  address = "${socket}.ttrpc"`,
      '[debug]', `  address = "${join(work, 'debug.sock')}"`, '  level = "info"',
      '[metrics]', '  address = ""',
      '',
    ].join('\n'));
    containerd = await startContainerd(config, join(work, 'containerd.log'), () => run('ctr', ['--address', socket, 'version'], { timeoutMs: 5_000 }));

    single = await buildImageLayout({ tag: 'v1' });
    multi = await buildMultiArchLayout({ tag: 'multi' });
    await pushLayout(server.registryUrl, server.caPath!, 'ctr/app', single);
    await pushLayout(server.registryUrl, server.caPath!, 'ctr/multi', multi);
  });

  after(async () => {
    await containerd?.stop();
    await server?.close();
    await single?.remove();
    await multi?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ctr images pull fetches and unpacks the image; ctr images ls and check show it', async () => {
    const ref = `${host}/ctr/app:v1`;
    await pull(ref);
    const listed = await listImage(ref);
    assert.equal(listed.type, single.top.mediaType);
    assert.equal(listed.digest, single.top.digest);
    assert.equal(listed.platforms, 'linux/amd64');

    const { stdout } = await ctr('images', 'check', '--snapshotter', 'native', `name==${ref}`);
    const row = stdout.split('\n').find((l) => l.startsWith(`${ref} `));
    assert.ok(row, stdout);
    assert.match(row, /complete \(3\/3\)/);
    assert.match(row, /\strue$/, 'unpacked');
    await assertUnpacked(single.images[0]!);
  });

  it('ctr images pull by digest', async () => {
    const ref = `${host}/ctr/app@${single.top.digest}`;
    await pull(ref);
    assert.equal((await listImage(ref)).digest, single.top.digest);
  });

  it('ctr images pull of a multi-architecture index unpacks the platform asked for', async () => {
    const ref = `${host}/ctr/multi:${multi.tag}`;
    const arm64 = multi.images.find((i) => i.platform.architecture === 'arm64')!;
    await pull(ref, '--platform', 'linux/arm64');
    const listed = await listImage(ref);
    assert.equal(listed.type, multi.top.mediaType);
    assert.equal(listed.digest, multi.top.digest);
    assert.equal(listed.platforms, 'linux/amd64,linux/arm64');
    await assertUnpacked(arm64);
  });

  it('ctr images push sends a pulled image to another repository, byte for byte', async () => {
    const source = `${host}/ctr/app:v1`;
    const target = `${host}/ctr/pushed:v1`;
    await ctr('images', 'tag', source, target);
    await ctr('images', 'push', '--hosts-dir', hostsDir, ...user(), target);
    // containerd remembers where it pulled each blob from, and asks for cross-repository mounts instead of uploading.
    // (A first try without a token for the push scope is answered 401 with the challenge; containerd then gets one.)
    const mounts = log.requests().filter((r) => r.method === 'POST' && r.url.startsWith('/v2/ctr/pushed/blobs/uploads/?mount=') && r.status !== 401);
    assert.equal(mounts.length, 1 + single.images[0]!.layers.length, JSON.stringify(mounts));
    assert.ok(mounts.every((m) => m.status === 201 && m.url.includes('from=ctr/app')), JSON.stringify(mounts));
    const ca = await readFile(server.caPath!);
    const got = await send(server.registryUrl, ca, 'GET', '/v2/ctr/pushed/manifests/v1', undefined, undefined, 200);
    assert.equal(sha256(got.body), single.top.digest);
    for (const blob of [single.images[0]!.config, ...single.images[0]!.layers]) {
      const head = await send(server.registryUrl, ca, 'HEAD', `/v2/ctr/pushed/blobs/${blob.digest}`, undefined, undefined, 200);
      assert.equal(head.headers['content-length'], String(blob.size));
    }
  });

  it('ctr images push uploads content the registry has never seen: an imported image and a multi-architecture index', async () => {
    // Imported into a namespace of its own, the content carries no note of where it came from, so containerd
    // uploads every blob (POST, then PUT with the body) instead of mounting it from the repository it was pulled from.
    const ca = await readFile(server.caPath!);
    for (const [layout, repository] of [[single, 'ctr/imported'], [multi, 'ctr/imported-multi']] as const) {
      const archive = await archiveLayout(layout, join(work, `${repository.replace('/', '-')}.tar`));
      const name = `${host}/${repository}`;
      await ctrIn(IMPORT_NAMESPACE, 'images', 'import', '--snapshotter', 'native', '--all-platforms', '--base-name', name, archive);
      await ctrIn(IMPORT_NAMESPACE, 'images', 'push', '--hosts-dir', hostsDir, ...user(), `${name}:${layout.tag}`);
      const uploads = log.requests().filter((r) => r.method === 'PUT' && r.url.startsWith(`/v2/${repository}/blobs/uploads/`));
      assert.equal(uploads.length, new Set(layout.images.flatMap((i) => [i.config, ...i.layers].map((b) => b.digest))).size, 'every blob was uploaded');
      const got = await send(server.registryUrl, ca, 'GET', `/v2/${repository}/manifests/${layout.tag}`, undefined, undefined, 200);
      assert.ok(got.body.equals(layout.topBytes), `${repository}:${layout.tag} is the manifest the layout holds`);
      for (const image of layout.images) {
        await send(server.registryUrl, ca, 'HEAD', `/v2/${repository}/manifests/${image.manifest.digest}`, undefined, undefined, 200);
        for (const blob of [image.config, ...image.layers]) {
          const head = await send(server.registryUrl, ca, 'HEAD', `/v2/${repository}/blobs/${blob.digest}`, undefined, undefined, 200);
          assert.equal(head.headers['content-length'], String(blob.size));
        }
      }
    }
  });

  /** The row of `ctr images ls` for one reference. */
  async function listImage(ref: string): Promise<{ type: string; digest: string; platforms: string }> {
    const { stdout } = await ctr('images', 'ls', `name==${ref}`);
    const row = stdout.split('\n').find((l) => l.startsWith(`${ref} `));
    assert.ok(row, `ctr images ls lists ${ref}:\n${stdout}`);
    const [, type, digest, , , platforms] = row.trim().split(/\s+/);
    return { type: type!, digest: digest!, platforms: platforms! };
  }

  /**
   * The image's top snapshot (keyed by the chain id of the config's diff_ids) holds every file of every layer.
   * A native view is a bind mount of the committed snapshot's folder, so the files can be read from there.
   */
  async function assertUnpacked(image: Image): Promise<void> {
    const chain = chainId(image.configJson.rootfs.diff_ids);
    const view = `anchorage-view-${chain.slice(7, 19)}`;
    // The mounts are printed when the view is made: containerd's garbage collector may remove a view that no lease holds.
    const { stdout } = await ctr('snapshots', '--snapshotter', 'native', 'view', '--mounts', view, chain);
    try {
      const mounts = JSON.parse(stdout) as Array<{ Type: string; Source: string }>;
      assert.equal(mounts.length, 1, stdout);
      assert.equal(mounts[0]!.Type, 'bind', stdout);
      for (const layer of image.layers) {
        for (const [path, content] of Object.entries(layer.files)) {
          assert.ok((await readFile(join(mounts[0]!.Source, path))).equals(Buffer.from(content)), `${path} is unpacked intact`);
        }
      }
    } finally {
      await ctr('snapshots', '--snapshotter', 'native', 'rm', view).catch((err: Error) => {
        if (!/not found/.test(err.message)) throw err;
      });
    }
  }
});

/** The OCI chain id of a stack of layers: the id containerd keys snapshots by. */
function chainId(diffIds: string[]): string {
  return diffIds.reduce((parent, diffId) => `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`);
}
