import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authFile, certsDir, hostOf, memoryLog, pushLayout, run, send, writeText, type MemoryLog } from '../../helpers/client-tools.js';
import { buildImageLayout, buildMultiArchLayout, sha256, type Image, type ImageLayout } from '../../helpers/oci-image.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  Architecture: string;
  Os: string;
  RootFS: { Type: string; Layers: string[] };
}

/**
 * podman pulls from a TLS server through the local CA (`--cert-dir`), into storage of its own under a temporary
 * folder (vfs: no mounts, any filesystem), with its own containers.conf, storage.conf, registries.conf and policy.
 * The images are pushed by the test's own HTTPS client, so this test does not lean on skopeo.
 */
describe('podman: pull from the registry over HTTPS with the local CA', () => {
  let server: TestServer;
  let log: MemoryLog;
  let work: string;
  let single: ImageLayout;
  let multi: ImageLayout;
  let host: string;
  let certDir: string;
  let policy: string;
  let global: string[];
  let env: NodeJS.ProcessEnv;

  const podman = (...args: string[]) => run('podman', [...global, ...args], { env, serverLog: log });
  const inspect = async (ref: string): Promise<PodmanImage> => {
    const { stdout } = await podman('image', 'inspect', ref);
    const images = JSON.parse(stdout) as PodmanImage[];
    assert.equal(images.length, 1);
    return images[0]!;
  };
  const assertImage = (found: PodmanImage, image: Image): void => {
    assert.deepEqual(found.RootFS.Layers, image.configJson.rootfs.diff_ids, 'the layers are the uncompressed tars the config lists');
    assert.equal(`sha256:${found.Id}`, image.config.digest, 'the image id is the config digest');
    assert.equal(found.Architecture, image.platform.architecture);
    assert.equal(found.Os, 'linux');
  };

  before(async () => {
    log = memoryLog();
    server = await startTestServer({ tls: true, logger: log.logger });
    host = hostOf(server.registryUrl);
    work = await mkdtemp(join(tmpdir(), 'anchorage-podman-'));
    certDir = await certsDir(join(work, 'certs.d'), host, server.caPath!);
    policy = await writeText(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    // File events and cgroupfs: no journald or systemd needed; networks under the work folder.
    const containersConf = await writeText(join(work, 'containers.conf'), [
      '[engine]', 'events_logger = "file"', `events_logfile_path = "${join(work, 'events.log')}"`, 'cgroup_manager = "cgroupfs"',
      '[network]', `network_config_dir = "${join(work, 'networks')}"`, '',
    ].join('\n'));
    const storageConf = await writeText(join(work, 'storage.conf'), [
      '[storage]', 'driver = "vfs"', `graphroot = "${join(work, 'root')}"`, `runroot = "${join(work, 'run')}"`, '',
    ].join('\n'));
    const registriesConf = await writeText(join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
    // The registry's admin user, in an auth file of the test's own: the host's auth.json stays out of it.
    await authFile(join(work, 'auth.json'), host, server.credentials);
    env = {
      CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_REGISTRIES_CONF: registriesConf,
      REGISTRY_AUTH_FILE: join(work, 'auth.json'),
    };
    global = ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(work, 'tmp')];
    single = await buildImageLayout({ tag: 'v1' });
    multi = await buildMultiArchLayout({ tag: 'multi' });
    await pushLayout(server.registryUrl, server.caPath!, 'podman/app', single);
    await pushLayout(server.registryUrl, server.caPath!, 'podman/multi', multi);
  });

  after(async () => {
    await server?.close();
    await single?.remove();
    await multi?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('podman pull fetches the image; podman image inspect shows its layers', async () => {
    const image = single.images[0]!;
    const { stdout } = await podman('pull', '--signature-policy', policy, '--cert-dir', certDir, `${host}/podman/app:v1`);
    assert.equal(stdout.trim().split('\n').pop(), image.config.digest.slice('sha256:'.length));
    const found = await inspect(`${host}/podman/app:v1`);
    assertImage(found, image);
    assert.equal(found.Digest, single.top.digest);
    assert.ok(found.RepoDigests.includes(`${host}/podman/app@${single.top.digest}`), JSON.stringify(found.RepoDigests));
  });

  it('podman pull by digest', async () => {
    await podman('pull', '--signature-policy', policy, '--cert-dir', certDir, `${host}/podman/app@${single.top.digest}`);
    assertImage(await inspect(`${host}/podman/app@${single.top.digest}`), single.images[0]!);
  });

  it('podman pull of a multi-architecture index picks the platform asked for', async () => {
    for (const image of multi.images) {
      await podman('pull', '--signature-policy', policy, '--cert-dir', certDir, '--platform', `linux/${image.platform.architecture}`,
        `${host}/podman/multi:${multi.tag}`);
      assertImage(await inspect(image.config.digest.slice('sha256:'.length)), image);
    }
  });

  it('podman search lists the tags of a repository', async () => {
    // search has no --cert-dir: it finds the CA in the per-user certs.d, $HOME/.config/containers/certs.d/<host:port>.
    const home = join(work, 'home');
    await certsDir(join(home, '.config', 'containers', 'certs.d'), host, server.caPath!);
    const search = (...args: string[]) => run('podman', [...global, 'search', ...args], { env: { ...env, HOME: home }, serverLog: log });
    // Listing the catalog is not asked here: podman 4.3 asks the token service for a token with no scope before it
    // reads /v2/_catalog, and ACR's token service grants only the scopes asked for (registry:catalog:* here).
    const tags = await search('--list-tags', '--format', 'json', `${host}/podman/app`);
    assert.deepEqual(JSON.parse(tags.stdout), [{ Name: `${host}/podman/app`, Tags: ['v1'] }]);
  });

  it('podman push sends the image to another repository; a fresh pull of it has the same layers', async () => {
    const image = single.images[0]!;
    const digestFile = join(work, 'pushed.digest');
    await podman('push', '--signature-policy', policy, '--cert-dir', certDir, '--digestfile', digestFile,
      `${host}/podman/app:v1`, `docker://${host}/podman/pushed:v1`);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    const got = await send(server.registryUrl, await readFile(server.caPath!), 'GET', `/v2/podman/pushed/manifests/v1`, undefined, undefined, 200);
    assert.equal(sha256(got.body), digest);
    const manifest = JSON.parse(got.body.toString('utf8')) as { config: { digest: string }; layers: unknown[] };
    assert.equal(manifest.config.digest, image.config.digest, 'podman keeps the config');
    assert.equal(manifest.layers.length, image.layers.length);

    await podman('rmi', '--all', '--force');
    await podman('pull', '--signature-policy', policy, '--cert-dir', certDir, `${host}/podman/pushed:v1`);
    assertImage(await inspect(`${host}/podman/pushed:v1`), image);
  });
});
