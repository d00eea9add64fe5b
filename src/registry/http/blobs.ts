import { RegistryError } from '../errors.js';
import { checkDigest } from '../names.js';
import type { Handler } from './context.js';
import { byteRange } from './request.js';
import { API_VERSION_HEADER, sendEmpty, sendRegistryError } from './respond.js';

/** GET and HEAD /v2/<name>/blobs/<digest>, with Range. */
export const getBlob: Handler = async ({ req, res, registry, name, param, services }) => {
  const digest = checkDigest(param);
  const headers = { ...API_VERSION_HEADER, 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', ETag: `"${digest}"` };
  if (req.method === 'HEAD') {
    const size = await services.blobs.stat(registry, name, digest);
    res.writeHead(200, { ...headers, 'Content-Length': size });
    res.end();
    return;
  }
  const blob = await services.blobs.open(registry, name, digest, (size) => byteRange(req.headers.range, size)).catch((err: unknown) => {
    // RFC 9110 §15.5.17: a 416 gives the blob's length, so that the client can ask for a range that exists.
    if (err instanceof RegistryError && err.code === 'RANGE_INVALID') {
      sendRegistryError(req, res, err, { 'Content-Range': `bytes */${(err.detail as { size: number }).size}` });
      return undefined;
    }
    throw err;
  });
  if (!blob) return;
  if (blob.range) {
    res.writeHead(206, {
      ...headers,
      'Content-Length': blob.range.end - blob.range.start + 1,
      'Content-Range': `bytes ${blob.range.start}-${blob.range.end}/${blob.size}`,
    });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': blob.size });
  }
  await blob.send(res);
};

/** DELETE /v2/<name>/blobs/<digest>: unlinks the blob from the repository; gc frees the content. */
export const deleteBlob: Handler = async ({ res, registry, name, param, services }) => {
  const digest = checkDigest(param);
  await services.blobs.unlink(registry, name, digest);
  sendEmpty(res, 202, { 'Docker-Content-Digest': digest });
};
