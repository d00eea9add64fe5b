import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request as httpsRequest, type Agent, type RequestOptions } from 'node:https';
import { fileURLToPath } from 'node:url';

/** The built command-line entry point, as `npm start` and the `anchorage` bin run it. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without ANCHORAGE_* settings of whoever runs the tests, so that only the flags count. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANCHORAGE_')));
}

/** Runs `anchorage ARGS...` to completion; a non-zero exit is a result, not an exception. */
export function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: cleanEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** `anchorage serve` running as a child process. */
export interface ServeProcess {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Waits until stdout matches; fails after `timeoutMs` or when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServe(args: string[]): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let done = false;
  const waiters = new Set<() => void>();
  const wake = (): void => { for (const w of [...waiters]) w(); };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; wake(); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      wake();
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 20_000) => new Promise((resolve, reject) => {
      const check = (): void => {
        const m = pattern.exec(out);
        if (m) finish(() => resolve(m));
        else if (done) finish(() => reject(new Error(`serve exited before printing ${pattern}; stdout:\n${out}\nstderr:\n${err}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`serve did not print ${pattern} in ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    }),
  };
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTPS request that trusts `ca` only (when given), with a whole body or none. */
export function httpsFetch(url: string, options: { method?: string; ca?: string; agent?: Agent; headers?: Record<string, string>; body?: Buffer } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const opts: RequestOptions = {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.agent ? { agent: options.agent } : { agent: false }),
    };
    const req = httpsRequest(url, opts, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
