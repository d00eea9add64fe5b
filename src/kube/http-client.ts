import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Bodies the Kubernetes-side tools read whole (tokens, errors, manifests) are small; anything larger is not what was asked for. */
const BODY_LIMIT = 8 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/**
 * HTTP(S) with one trust setting for every request: the CA given (Anchorage's local CA, from the node's
 * configuration) or the system's. node:https rather than fetch, because fetch on Node 20 takes no CA of its own.
 */
export class HttpClient {
  private readonly https: HttpsAgent;
  private readonly http = new HttpAgent({ keepAlive: true });

  /** `deadline` (epoch ms) bounds every request together, bodies included, for a caller that has a time limit of its own. */
  constructor(ca: string | undefined, private readonly deadline?: number) {
    this.https = new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) });
  }

  async send(url: string, options: HttpRequest = {}): Promise<HttpResponse> {
    const res = await this.open(url, options);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > BODY_LIMIT) {
          res.destroy();
          throw new Error(`${options.method ?? 'GET'} ${url}: the response is larger than ${BODY_LIMIT} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      throw this.explained(err);
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** A GET whose body is hashed as it streams (layers can be large): the status, and the body's sha256 digest and size when 200. */
  async digest(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; digest?: string; size?: number }> {
    const res = await this.open(url, { headers });
    if (res.statusCode !== 200) {
      res.resume();
      return { status: res.statusCode ?? 0, headers: res.headers };
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { status: 200, headers: res.headers, digest: `sha256:${hash.digest('hex')}`, size };
  }

  /** The deadline's abort, in words: the request fails with AbortError, a response already under way with "aborted". */
  private explained(err: unknown): unknown {
    return this.deadline !== undefined && Date.now() >= this.deadline ? new Error('the time allowed ran out') : err;
  }

  close(): void {
    this.https.destroy();
    this.http.destroy();
  }

  private open(url: string, options: HttpRequest): Promise<IncomingMessage> {
    const secure = url.startsWith('https:');
    const send = secure ? httpsRequest : httpRequest;
    const left = this.deadline === undefined ? undefined : this.deadline - Date.now();
    if (left !== undefined && left <= 0) return Promise.reject(new Error('no time is left for it'));
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method: options.method ?? 'GET',
        agent: secure ? this.https : this.http,
        timeout: TIMEOUT_MS,
        ...(left !== undefined ? { signal: AbortSignal.timeout(left) } : {}),
        headers: { ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
      }, resolve);
      req.on('timeout', () => req.destroy(new Error(`no answer came for ${TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => reject(this.explained(err)));
      req.end(options.body);
    });
  }
}

/** `Bearer realm="...",service="...",scope="..."` (or Basic): the scheme and its parameters, quote-aware. */
export function parseChallenge(header: string | string[] | undefined): { scheme: string; params: Record<string, string> } | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /^(\S+)\s*(.*)$/s.exec(value.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  for (const p of m[2]!.matchAll(re)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}
