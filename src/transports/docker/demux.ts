/**
 * The engine's multiplexed exec stream (no TTY): frames of an 8-byte header (stream 1 stdout or 2 stderr, three zero
 * bytes, a big-endian length) followed by that many bytes. Frames may be split across reads or share one.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly emit: (stream: "stdout" | "stderr", chunk: Buffer) => void) {}

  write(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (buf.length >= 8) {
      const length = buf.readUInt32BE(4);
      if (buf.length < 8 + length) break;
      const payload = buf.subarray(8, 8 + length);
      // Stream 0 (stdin) never comes back; anything but stderr is treated as stdout.
      if (length > 0) this.emit(buf[0] === 2 ? "stderr" : "stdout", payload);
      buf = buf.subarray(8 + length);
    }
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}
