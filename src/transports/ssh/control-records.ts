/**
 * The remote wrapper (wrapper.ts) tells orc two things on the process's stderr: its process group id first, its exit
 * status (and whether the workspace changed) last, each a record `\x1e NONCE : BODY \n` with a nonce fresh per
 * process. This filter takes the records out of the stream and passes everything else through unchanged; bytes that
 * could be the start of a record are held back until they are known to be one or not.
 */
export class ControlRecords {
  private pending: Buffer = Buffer.alloc(0);
  private readonly prefix: Buffer;

  constructor(
    nonce: string,
    private readonly onRecord: (body: string) => void,
    private readonly pass: (chunk: Buffer) => void,
  ) {
    this.prefix = Buffer.from(`\x1e${nonce}:`);
  }

  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const at = this.pending.indexOf(this.prefix);
      if (at < 0) break;
      const end = this.pending.indexOf(0x0a, at + this.prefix.length);
      if (end < 0) {
        this.flushBefore(at);
        return;
      }
      this.flushBefore(at);
      this.onRecord(this.pending.subarray(this.prefix.length, end - at).toString("utf8"));
      this.pending = this.pending.subarray(end - at + 1);
    }
    // No record starts here; keep only a tail that could be the start of the prefix.
    this.flushBefore(this.pending.length - this.partialPrefix());
  }

  /** End of stream: whatever is held back was not a record after all. */
  end(): void {
    if (this.pending.length > 0) this.pass(this.pending);
    this.pending = Buffer.alloc(0);
  }

  private flushBefore(at: number): void {
    if (at <= 0) return;
    this.pass(this.pending.subarray(0, at));
    this.pending = this.pending.subarray(at);
  }

  /** The length of the longest suffix of `pending` that is a proper prefix of the record prefix. */
  private partialPrefix(): number {
    const max = Math.min(this.prefix.length - 1, this.pending.length);
    for (let n = max; n > 0; n--) {
      if (this.pending.subarray(this.pending.length - n).equals(this.prefix.subarray(0, n))) return n;
    }
    return 0;
  }
}
