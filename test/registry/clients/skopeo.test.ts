import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authFile, certsDir, hostOf, memoryLog, run, writeText, type MemoryLog } from '../../helpers/client-tools.js';
import { buildImageLayout, buildMultiArchLayout, sha256, sha256File, type Image, type ImageLayout } from '../../helpers/oci-image.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/**
 * skopeo (containers/image) against a TLS server that it trusts through the local CA, never --tls-verify=false:
 * push of an OCI layout the test built, inspect, and pull back to a directory with every digest unchanged.
 */
describe('skopeo: push, inspect and pull over HTTPS with the local CA', () => {
  let server: TestServer;
  let log: MemoryLog;
  let work: string;
  let single: ImageLayout;
  let multi: ImageLayout;
  let host: string;
  /** certs.d/<host:port>, with the server's CA as ca.crt. */
  let certDir: string;
  let common: string[];
  let env: NodeJS.ProcessEnv;

  const skopeo = (...args: string[]) => run('skopeo', [...common, ...args], { env, serverLog: log });

  before(async () => {
    log = memoryLog();
    server = await startTestServer({ tls: true, logger: log.logger });
    work = await mkdtemp(join(tmpdir(), 'anchorage-skopeo-'));
    host = hostOf(server.registryUrl);
    certDir = await certsDir(join(work, 'certs.d'), host, server.caPath!);
    // Only the test's own policy, registries.conf and registries.d: nothing on the host changes what skopeo does.
    const policy = await writeText(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    const registriesConf = await writeText(join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
    await writeText(join(work, 'registries.d', 'default.yaml'), 'default-docker: {}\n');
    common = ['--policy', policy, '--registries.d', join(work, 'registries.d')];
    // The registry's admin user, in an auth file of the test's own: the host's auth.json stays out of it.
    await authFile(join(work, 'auth.json'), host, server.credentials);
    env = { CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRY_AUTH_FILE: join(work, 'auth.json') };
    single = await buildImageLayout({ tag: 'v1' });
    multi = await buildMultiArchLayout({ tag: 'multi' });
  });

  after(async () => {
    await server?.close();
    await single?.remove();
    await multi?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('a single-platform OCI image', () => {
    it('skopeo copy pushes the layout, keeping the manifest digest', async () => {
      const digestFile = join(work, 'single.digest');
      await skopeo('copy', '--dest-cert-dir', certDir, '--digestfile', digestFile,
        `oci:${single.dir}:${single.tag}`, `docker://${host}/skopeo/app:v1`);
      assert.equal((await readFile(digestFile, 'utf8')).trim(), single.top.digest);
    });

    it('skopeo inspect shows the digest, platform, layers and config', async () => {
      const image = single.images[0]!;
      const { stdout } = await skopeo('inspect', '--cert-dir', certDir, `docker://${host}/skopeo/app:v1`);
      const info = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string; Os: string; Labels: Record<string, string>; RepoTags: string[] };
      assert.equal(info.Digest, single.top.digest);
      assert.deepEqual(info.Layers, image.layers.map((l) => l.digest));
      assert.equal(info.Architecture, 'amd64');
      assert.equal(info.Os, 'linux');
      assert.deepEqual(info.Labels, image.configJson.config.Labels);
      assert.deepEqual(info.RepoTags, ['v1']);

      const raw = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/app:v1`);
      assert.equal(raw.stdout, single.topBytes.toString('utf8'), 'the manifest comes back byte for byte');
      const config = await skopeo('inspect', '--config', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/app:v1`);
      assert.equal(sha256(config.stdout), image.config.digest);
    });

    it('skopeo inspect by digest reads the same manifest', async () => {
      const { stdout } = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/app@${single.top.digest}`);
      assert.equal(sha256(stdout), single.top.digest);
    });

    it('skopeo copy pulls it back to a directory with the same manifest, config and layer digests', async () => {
      const out = join(work, 'pulled-single');
      await skopeo('copy', '--src-cert-dir', certDir, `docker://${host}/skopeo/app:v1`, `dir:${out}`);
      await assertDirImage(out, single.images[0]!);
      assert.equal(await sha256File(join(out, 'manifest.json')), single.top.digest);
    });

    it('skopeo list-tags lists the tag', async () => {
      await skopeo('copy', '--dest-cert-dir', certDir, `oci:${single.dir}:${single.tag}`, `docker://${host}/skopeo/app:v1.0.1`);
      const { stdout } = await skopeo('list-tags', '--cert-dir', certDir, `docker://${host}/skopeo/app`);
      assert.deepEqual((JSON.parse(stdout) as { Tags: string[] }).Tags.sort(), ['v1', 'v1.0.1']);
    });
  });

  describe('a multi-architecture OCI index', () => {
    it('skopeo copy --all pushes the index and both images', async () => {
      const digestFile = join(work, 'multi.digest');
      await skopeo('copy', '--all', '--dest-cert-dir', certDir, '--digestfile', digestFile,
        `oci:${multi.dir}:${multi.tag}`, `docker://${host}/skopeo/multi:${multi.tag}`);
      assert.equal((await readFile(digestFile, 'utf8')).trim(), multi.top.digest);
    });

    it('skopeo inspect --raw shows the index, listing linux/amd64 and linux/arm64', async () => {
      const { stdout } = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/multi:${multi.tag}`);
      assert.equal(stdout, multi.topBytes.toString('utf8'));
      const index = JSON.parse(stdout) as { mediaType: string; manifests: Array<{ digest: string; platform: { architecture: string; os: string } }> };
      assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`), ['linux/amd64', 'linux/arm64']);
      assert.deepEqual(index.manifests.map((m) => m.digest), multi.images.map((i) => i.manifest.digest));
    });

    it('skopeo inspect picks each platform out of the index', async () => {
      for (const image of multi.images) {
        const { stdout } = await skopeo('--override-os', 'linux', '--override-arch', image.platform.architecture,
          'inspect', '--cert-dir', certDir, `docker://${host}/skopeo/multi:${multi.tag}`);
        const info = JSON.parse(stdout) as { Architecture: string; Layers: string[]; Digest: string };
        assert.equal(info.Architecture, image.platform.architecture);
        assert.deepEqual(info.Layers, image.layers.map((l) => l.digest));
      }
    });

    it('skopeo copy --all pulls the index and both images back with the same digests', async () => {
      const out = join(work, 'pulled-multi');
      await skopeo('copy', '--all', '--src-cert-dir', certDir, `docker://${host}/skopeo/multi:${multi.tag}`, `dir:${out}`);
      assert.equal(await sha256File(join(out, 'manifest.json')), multi.top.digest);
      for (const image of multi.images) {
        const hex = image.manifest.digest.slice('sha256:'.length);
        assert.equal(await sha256File(join(out, `${hex}.manifest.json`)), image.manifest.digest);
        for (const blob of [image.config, ...image.layers]) {
          assert.equal(await sha256File(join(out, blob.digest.slice('sha256:'.length))), blob.digest);
        }
      }
    });
  });

  describe('Docker schema 2', () => {
    it('skopeo copy --format v2s2 pushes a Docker manifest that inspects and pulls back', async () => {
      const digestFile = join(work, 'docker.digest');
      await skopeo('copy', '--format', 'v2s2', '--dest-cert-dir', certDir, '--digestfile', digestFile,
        `oci:${single.dir}:${single.tag}`, `docker://${host}/skopeo/docker:v1`);
      const digest = (await readFile(digestFile, 'utf8')).trim();
      const raw = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/docker:v1`);
      assert.equal(sha256(raw.stdout), digest);
      const manifest = JSON.parse(raw.stdout) as { mediaType: string; layers: Array<{ mediaType: string; digest: string }> };
      assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      assert.deepEqual(manifest.layers.map((l) => l.mediaType), single.images[0]!.layers.map(() => 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
      assert.deepEqual(manifest.layers.map((l) => l.digest), single.images[0]!.layers.map((l) => l.digest));

      const out = join(work, 'pulled-docker');
      await skopeo('copy', '--src-cert-dir', certDir, `docker://${host}/skopeo/docker:v1`, `dir:${out}`);
      assert.equal(await sha256File(join(out, 'manifest.json')), digest);
    });
  });

  describe('Docker manifest list', () => {
    it('skopeo copy --all --format v2s2 pushes a Docker manifest list that inspects and pulls back', async () => {
      const digestFile = join(work, 'docker-list.digest');
      await skopeo('copy', '--all', '--format', 'v2s2', '--dest-cert-dir', certDir, '--digestfile', digestFile,
        `oci:${multi.dir}:${multi.tag}`, `docker://${host}/skopeo/docker-list:${multi.tag}`);
      const digest = (await readFile(digestFile, 'utf8')).trim();
      const raw = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/docker-list:${multi.tag}`);
      assert.equal(sha256(raw.stdout), digest);
      const list = JSON.parse(raw.stdout) as { mediaType: string; manifests: Array<{ mediaType: string; platform: { architecture: string } }> };
      assert.equal(list.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
      assert.deepEqual(list.manifests.map((m) => m.mediaType), multi.images.map(() => 'application/vnd.docker.distribution.manifest.v2+json'));
      assert.deepEqual(list.manifests.map((m) => m.platform.architecture), multi.images.map((i) => i.platform.architecture));

      const out = join(work, 'pulled-docker-list');
      await skopeo('copy', '--all', '--src-cert-dir', certDir, `docker://${host}/skopeo/docker-list:${multi.tag}`, `dir:${out}`);
      assert.equal(await sha256File(join(out, 'manifest.json')), digest);
    });
  });

  describe('deletion', () => {
    it('skopeo delete removes the manifest; inspect then fails with manifest unknown', async () => {
      await skopeo('copy', '--dest-cert-dir', certDir, `oci:${single.dir}:${single.tag}`, `docker://${host}/skopeo/doomed:v1`);
      await skopeo('delete', '--cert-dir', certDir, `docker://${host}/skopeo/doomed:v1`);
      await assert.rejects(skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/doomed:v1`),
        (err: Error) => /manifest unknown/i.test(err.message));
      // The same content in another repository is untouched.
      const { stdout } = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/app:v1`);
      assert.equal(sha256(stdout), single.top.digest);
    });
    it('skopeo delete of a manifest an index still lists is refused, with the reason', async () => {
      const child = multi.images[0]!.manifest.digest;
      await assert.rejects(skopeo('delete', '--cert-dir', certDir, `docker://${host}/skopeo/multi@${child}`), (err: Error) => {
        assert.match(err.message, /listed by index/);
        return true;
      });
      const { stdout } = await skopeo('inspect', '--raw', '--cert-dir', certDir, `docker://${host}/skopeo/multi@${child}`);
      assert.equal(sha256(stdout), child);
    });
  });

  /** A `dir:` copy of an image holds manifest.json and one file per blob, named by its hex digest. */
  async function assertDirImage(out: string, image: Image): Promise<void> {
    const files = (await readdir(out)).sort();
    const blobs = [image.config, ...image.layers].map((d) => d.digest.slice('sha256:'.length));
    assert.deepEqual(files, [...blobs, 'manifest.json', 'version'].sort());
    for (const blob of [image.config, ...image.layers]) {
      assert.equal(await sha256File(join(out, blob.digest.slice('sha256:'.length))), blob.digest, `blob ${blob.digest} comes back intact`);
    }
  }
});
