import type { IncomingMessage } from 'node:http';

/**
 * How long a small body may stop arriving before the request is answered with an error: a client whose
 * Content-Length promises more than it sends would otherwise hold the request open until the socket times out.
 */
const BODY_IDLE_MS = 30_000;

export class RequestBodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body exceeds ${limit} bytes`);
  }
}

/** The body stopped arriving before its end; the client gets an error in its protocol's format (status 408). */
export class RequestBodyStalled extends Error {
  constructor(readonly idleMs: number) {
    super(`the request body stopped arriving: nothing came for ${idleMs / 1000} s before its end (is Content-Length right?)`);
  }
}

/** The client hung up before its body ended: there is nobody left to answer. */
export class RequestBodyAborted extends Error {
  constructor() {
    super('the client closed the connection before the request body ended');
  }
}

/**
 * Reads a small request body whole (forms, JSON, manifests). Past `limit` bytes it stops and throws
 * RequestBodyTooLarge; a body that stalls for `idleMs` throws RequestBodyStalled; a hang-up, RequestBodyAborted.
 */
export function readRequestBody(req: IncomingMessage, limit: number, idleMs = BODY_IDLE_MS): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new RequestBodyTooLarge(limit));
  // Read elsewhere first, the rest of a body would pass for all of it.
  if (req.readableDidRead) return Promise.reject(new Error('the request body has already been read'));
  // Gone while the request was being authenticated: no event would come.
  if (req.destroyed && !req.complete) return Promise.reject(new RequestBodyAborted());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err: Error | null): void => {
      clearTimeout(idle);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) {
        // Whatever else the client sends is read and dropped, so that the answer reaches it.
        req.resume();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return settle(new RequestBodyTooLarge(limit));
      chunks.push(chunk);
      idle.refresh();
    };
    const onEnd = (): void => settle(null);
    const onError = (): void => settle(new RequestBodyAborted());
    const onClose = (): void => settle(req.complete ? null : new RequestBodyAborted());
    const idle = setTimeout(() => settle(new RequestBodyStalled(idleMs)), idleMs);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    // A 'data' listener does not restart a stream that was paused.
    req.resume();
  });
}

/** The body is not a JSON object (`isJson`: it is JSON, of another kind); `detail` says why, for the plane's error format. */
export class RequestBodyNotJsonObject extends Error {
  constructor(readonly detail: string, readonly isJson: boolean) {
    super(`the request body is not a JSON object: ${detail}`);
  }
}

/**
 * Reads a JSON object body (ARM, Graph): empty is `{}` (a POST may come without one), a UTF-8 byte order mark is
 * skipped, anything else that is not one JSON object throws RequestBodyNotJsonObject.
 */
export async function readJsonObjectBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const text = (await readRequestBody(req, limit)).toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RequestBodyNotJsonObject((err as Error).message, false);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestBodyNotJsonObject('the body must be a JSON object', true);
  return value as Record<string, unknown>;
}

/**
 * A client that hangs up mid-request is not a server error: nothing is answered, and nothing logged above debug.
 * Decided by the error alone: a request or socket destroyed by the server itself (a failed write) is no sign of it.
 */
export function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return err instanceof RequestBodyAborted || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
