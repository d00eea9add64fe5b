import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { create as createTar } from 'tar';

/**
 * Builds OCI image layouts (https://github.com/opencontainers/image-spec/blob/main/image-layout.md) from scratch,
 * so the real-client tests push content whose every byte and digest the test knows: gzip tar layers made with
 * `tar`, a config whose rootfs.diff_ids are the digests of the uncompressed tars, manifests, an index.
 */

export const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The annotation that names a manifest in index.json: `oci:DIR:TAG` finds it by this. */
const REF_NAME = 'org.opencontainers.image.ref.name';
/** Fixed file times, so the same files give the same layer digests. */
const MTIME = new Date('2024-01-01T00:00:00Z');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

export interface Layer extends Descriptor {
  /** sha256 of the uncompressed tar: what the config's rootfs.diff_ids lists. */
  diffId: string;
  /** The files in the layer, path to content. */
  files: LayerFiles;
}

export interface Image {
  /** The manifest's descriptor (with the platform when the image is part of an index). */
  manifest: Descriptor;
  manifestBytes: Buffer;
  config: Descriptor;
  configJson: ImageConfig;
  layers: Layer[];
  platform: { os: string; architecture: string };
}

export interface ImageConfig {
  architecture: string;
  os: string;
  created: string;
  config: { Cmd: string[]; Env: string[]; Labels: Record<string, string> };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: Array<{ created: string; created_by: string }>;
}

export interface ImageLayout {
  /** The layout folder: `oci:${dir}:${tag}` is its reference for skopeo. */
  dir: string;
  tag: string;
  /** What the tag names: an image manifest, or an index for a multi-architecture image. */
  top: Descriptor;
  topBytes: Buffer;
  /** The images, one per platform. */
  images: Image[];
  /** Removes the layout folder. */
  remove(): Promise<void>;
}

/** The files of one layer: path (relative, `/`-separated) to content. */
export type LayerFiles = Record<string, string | Buffer>;

export interface ImageOptions {
  tag?: string;
  /** Files of the image's layers: one record per layer. A default two-layer image otherwise. */
  layers?: LayerFiles[];
  architecture?: string;
}

/** A single-platform image (linux/amd64 unless told) as an OCI image layout in a new temporary folder. */
export async function buildImageLayout(options: ImageOptions = {}): Promise<ImageLayout> {
  const tag = options.tag ?? 'v1';
  const architecture = options.architecture ?? 'amd64';
  const dir = await newLayout();
  try {
    const image = await writeImage(dir, architecture, options.layers ?? defaultLayers(architecture));
    await writeIndexJson(dir, { ...image.manifest, annotations: { [REF_NAME]: tag } });
    return { dir, tag, top: image.manifest, topBytes: image.manifestBytes, images: [image], remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A multi-architecture image: an OCI image index listing a linux/amd64 and a linux/arm64 image, each with its own layers. */
export async function buildMultiArchLayout(options: { tag?: string; architectures?: string[] } = {}): Promise<ImageLayout> {
  const tag = options.tag ?? 'multi';
  const dir = await newLayout();
  try {
    const images: Image[] = [];
    for (const architecture of options.architectures ?? ['amd64', 'arm64']) {
      const image = await writeImage(dir, architecture, defaultLayers(architecture));
      image.manifest.platform = image.platform;
      images.push(image);
    }
    const index = {
      schemaVersion: 2,
      mediaType: OCI.index,
      manifests: images.map((i) => i.manifest),
    };
    const top = await writeJsonBlob(dir, OCI.index, index);
    await writeIndexJson(dir, { ...top.descriptor, annotations: { [REF_NAME]: tag } });
    return { dir, tag, top: top.descriptor, topBytes: top.bytes, images, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The layout as an OCI archive (a tar of the layout folder), the form `ctr images import` reads. */
export async function archiveLayout(layout: ImageLayout, file: string): Promise<string> {
  await createTar({ cwd: layout.dir, file, portable: true }, ['oci-layout', 'index.json', 'blobs']);
  return file;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of a file, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Two layers: a couple of small text files, then a 2 MiB file that gzip cannot shrink, so that the blob
 * crosses the clients' and the server's buffer sizes and is streamed in several writes.
 */
function defaultLayers(architecture: string): LayerFiles[] {
  return [
    {
      'etc/anchorage-release': `NAME=anchorage-test\nARCH=${architecture}\n`,
      'usr/share/anchorage/hello.txt': `hello from the ${architecture} image\n`,
    },
    {
      'app/data.json': `${JSON.stringify({ architecture, numbers: Array.from({ length: 64 }, (_, i) => i * i) })}\n`,
      'app/noise.bin': pseudoRandom(`noise-${architecture}`, 2 * 1024 * 1024),
    },
  ];
}

/** Bytes that look random but are the same on every run (AES-CTR of zeros under a key derived from `seed`). */
export function pseudoRandom(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

async function newLayout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anchorage-oci-'));
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return dir;
}

async function writeImage(dir: string, architecture: string, layerFiles: LayerFiles[]): Promise<Image> {
  const layers: Layer[] = [];
  for (const files of layerFiles) layers.push(await writeLayer(dir, files));
  const created = MTIME.toISOString();
  const configJson: ImageConfig = {
    architecture,
    os: 'linux',
    created,
    config: { Cmd: ['/bin/true'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'io.anchorage.test': 'true' } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `anchorage test layer ${i + 1}` })),
  };
  const config = await writeJsonBlob(dir, OCI.config, configJson);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config: config.descriptor,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    annotations: { 'org.opencontainers.image.title': `anchorage-test-${architecture}` },
  };
  const written = await writeJsonBlob(dir, OCI.manifest, manifest);
  return {
    manifest: written.descriptor, manifestBytes: written.bytes,
    config: config.descriptor, configJson, layers,
    platform: { os: 'linux', architecture },
  };
}

/** A layer: the files written to a scratch folder, packed by `tar`, then gzipped into the blob store. */
async function writeLayer(dir: string, files: LayerFiles): Promise<Layer> {
  const scratch = await mkdtemp(join(tmpdir(), 'anchorage-layer-'));
  try {
    const root = join(scratch, 'root');
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content, { mode: 0o644 });
    }
    const tarPath = join(scratch, 'layer.tar');
    const tops = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))].sort();
    // portable: no uid/gid/uname or times that vary with the machine; a fixed mtime keeps digests stable.
    await createTar({ cwd: root, file: tarPath, portable: true, mtime: MTIME }, tops);
    const diffId = await sha256File(tarPath);
    const gzPath = join(scratch, 'layer.tar.gz');
    await pipeline(createReadStream(tarPath), createGzip(), createWriteStream(gzPath));
    const gz = await readFile(gzPath);
    const digest = sha256(gz);
    await rename(gzPath, blobPath(dir, digest));
    return { mediaType: OCI.layerGzip, digest, size: gz.length, diffId, files };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function writeJsonBlob(dir: string, mediaType: string, value: unknown): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = sha256(bytes);
  await writeFile(blobPath(dir, digest), bytes);
  return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
}

async function writeIndexJson(dir: string, descriptor: Descriptor): Promise<void> {
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests: [descriptor] }));
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}
