/**
 * Fixed-size buffers kept for reuse. Serving a blob through a fresh buffer per read made garbage collection a
 * quarter of the server's time on pulls, and a reused buffer is still in the CPU's cache when the socket copies
 * it out.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  /** @param size bytes per buffer  @param keep how many released buffers to hold on to at most */
  constructor(readonly size: number, private readonly keep: number) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Gives a buffer back. Only release a buffer nothing else will read or write again. */
  release(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}
