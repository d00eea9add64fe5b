/**
 * The OCI Distribution error codes, with the HTTP status each is sent with.
 * Services throw RegistryError; the HTTP layer turns it into the spec's error JSON.
 */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'invalid tag' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  // Conditions the spec gives a status but no code of their own: `wire` is the code clients see.
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable', wire: 'BLOB_UPLOAD_INVALID' },
  MANIFEST_REFERENCED: { status: 409, message: 'manifest is referenced by an index', wire: 'DENIED' },
  TOO_LARGE: { status: 413, message: 'payload too large', wire: 'SIZE_INVALID' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

type ErrorSpec = { status: number; message: string; wire?: string };

export class RegistryError extends Error {
  readonly status: number;
  /** The code written in the error JSON. */
  readonly wireCode: string;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail?: unknown,
    status?: number,
  ) {
    super(message ?? ERROR_CODES[code].message);
    const spec: ErrorSpec = ERROR_CODES[code];
    this.status = status ?? spec.status;
    this.wireCode = spec.wire ?? code;
  }
}
