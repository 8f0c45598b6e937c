/**
 * The last `max` bytes (UTF-8) of a text stream. Appends are amortised O(1): the text may grow to twice the limit
 * before it is cut back, and cuts land on a character boundary (so the kept tail may be a few bytes short).
 */
export class TailBuffer {
  private text = "";
  private bytes = 0;
  /** Bytes cut from the front so far. */
  dropped = 0;

  constructor(private readonly max: number) {}

  push(chunk: string): void {
    if (chunk === "") return;
    this.text += chunk;
    this.bytes += Buffer.byteLength(chunk, "utf8");
    if (this.bytes > this.max * 2) this.trim();
  }

  toString(): string {
    if (this.bytes > this.max) this.trim();
    return this.text;
  }

  private trim(): void {
    const buf = Buffer.from(this.text, "utf8");
    let start = Math.max(0, buf.length - this.max);
    // Never start inside a multibyte character: skip UTF-8 continuation bytes (10xxxxxx).
    while (start < buf.length && ((buf[start] ?? 0) & 0xc0) === 0x80) start++;
    this.dropped += start;
    this.text = buf.subarray(start).toString("utf8");
    this.bytes = buf.length - start;
  }
}
