import { RegistryError } from '../errors.js';
import { checkDigest, checkRepositoryName } from '../names.js';
import type { UploadState } from '../uploads.js';
import type { Handler } from './context.js';
import { chunkInfo, contentLength, hasBody } from './request.js';
import { sendEmpty } from './respond.js';

function uploadHeaders(name: string, state: UploadState): Record<string, string> {
  return {
    Location: `/v2/${name}/blobs/uploads/${state.id}`,
    Range: `0-${Math.max(state.size - 1, 0)}`,
    'Docker-Upload-UUID': state.id,
  };
}

function created(name: string, digest: string): Record<string, string> {
  return { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest };
}

function requiredDigest(query: URLSearchParams): ReturnType<typeof checkDigest> {
  const digest = query.get('digest');
  if (digest === null) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required to complete an upload');
  return checkDigest(digest);
}

/** POST /v2/<name>/blobs/uploads/: a mount, a monolithic upload (`?digest=`), or a new session. */
export const startUpload: Handler = async ({ req, res, registry, name, query, services }) => {
  const mount = query.get('mount');
  if (mount !== null) {
    const digest = checkDigest(mount);
    const from = query.get('from');
    if (await services.uploads.mount(registry, name, digest, from === null ? undefined : checkRepositoryName(from))) {
      sendEmpty(res, 201, created(name, digest));
      return;
    }
  }
  const digest = query.get('digest');
  if (digest !== null && mount === null) {
    const checked = checkDigest(digest);
    await services.uploads.monolithic(registry, name, checked, req, contentLength(req));
    sendEmpty(res, 201, created(name, checked));
    return;
  }
  const state = await services.uploads.start(registry, name);
  sendEmpty(res, 202, uploadHeaders(name, state));
};

/** GET /v2/<name>/blobs/uploads/<id>: where the upload stands. */
export const uploadStatus: Handler = async ({ res, registry, name, param, services }) => {
  sendEmpty(res, 204, uploadHeaders(name, await services.uploads.status(registry, name, param)));
};

/** PATCH /v2/<name>/blobs/uploads/<id>: a chunk (with Content-Range) or a stream (without). */
export const appendUpload: Handler = async ({ req, res, registry, name, param, services }) => {
  const state = await services.uploads.append(registry, name, param, req, chunkInfo(req));
  sendEmpty(res, 202, uploadHeaders(name, state));
};

/** PUT /v2/<name>/blobs/uploads/<id>?digest=: the last chunk, if any, and the check of the digest. */
export const finishUpload: Handler = async ({ req, res, registry, name, param, query, services }) => {
  const digest = requiredDigest(query);
  const body = hasBody(req) ? req : undefined;
  await services.uploads.finish(registry, name, param, digest, body, body ? chunkInfo(req) : {});
  sendEmpty(res, 201, created(name, digest));
};

/** DELETE /v2/<name>/blobs/uploads/<id>: cancels the upload and frees what it holds. */
export const cancelUpload: Handler = async ({ res, registry, name, param, services }) => {
  await services.uploads.cancel(registry, name, param);
  sendEmpty(res, 204);
};
