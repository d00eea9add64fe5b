/** What people read: concise lines on stdout, progress on stderr only when it is a terminal. */

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A one-line progress display that redraws itself; silent when stderr is not a terminal. */
export class Progress {
  private readonly live = process.stderr.isTTY === true;
  private last = 0;

  update(label: string, done: number, total?: number): void {
    if (!this.live) return;
    const now = Date.now();
    if (now - this.last < 80 && total !== undefined && done < total) return;
    this.last = now;
    let line = `${label} ${done}`;
    if (total !== undefined && total > 0) {
      const width = 24;
      const filled = Math.round((done / total) * width);
      line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    }
    process.stderr.write(`\r\x1b[K${line}`);
  }

  done(): void {
    if (this.live) process.stderr.write('\r\x1b[K');
  }
}

/** Parses durations like 90s, 30m, 1h, 7d. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration ${JSON.stringify(text)}: use a number and ms, s, m, h or d (e.g. 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
