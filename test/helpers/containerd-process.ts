import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ContainerdProcess {
  child: ChildProcess;
  /** The last lines containerd logged, for failure messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after 10 s. */
  stop(): Promise<void>;
}

/**
 * Starts `containerd --config CONFIG` with its output in `logPath` and waits until `ready` succeeds (a `ctr
 * version`, a CRI Version call), failing with the log's tail if containerd exits or does not answer in time.
 */
export async function startContainerd(config: string, logPath: string, ready: () => Promise<unknown>): Promise<ContainerdProcess> {
  const fd = openSync(logPath, 'a');
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: string | undefined;
  child.once('error', (err) => { exited = err.message; });
  child.once('exit', (code, signal) => { exited ??= `exited with ${code ?? signal}`; });
  const process: ContainerdProcess = {
    child,
    tail: () => {
      try {
        return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      } catch {
        return '(no containerd log)';
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      if (!(await Promise.race([done.then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })]))) {
        child.kill('SIGKILL');
        await done;
      }
    },
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(`containerd --config ${config} ${exited}\n--- containerd log ---\n${process.tail()}`);
    try {
      await ready();
      return process;
    } catch (err) {
      if (Date.now() > deadline) {
        await process.stop();
        throw new Error(`containerd did not answer within ${START_TIMEOUT_MS} ms: ${(err as Error).message}\n--- containerd log ---\n${process.tail()}`);
      }
    }
    await sleep(100);
  }
}
