import { StringDecoder } from "node:string_decoder";
import type { ProcessOutcome, ProcessSpec } from "./port.js";
import { TailBuffer } from "./tail-buffer.js";

export type OutputStream = "stdout" | "stderr";

/** What a run keeps of its output: the part of a ProcessOutcome that OutputTails fills in. */
export type KeptOutput = Pick<ProcessOutcome, "stdoutTail" | "stderrTail" | "outputTail" | "droppedBytes">;

/**
 * One child's output as it arrives: decoded per stream, kept as a bounded tail of each stream and of both interleaved,
 * and handed to the spec's observers.
 */
export class OutputTails {
  private readonly tails: Record<OutputStream, TailBuffer>;
  private readonly combined: TailBuffer;
  // One decoder per stream: a multibyte character split across two reads is held back until it is complete.
  private readonly decoders: Record<OutputStream, StringDecoder> = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private readonly observers: Record<OutputStream, ((chunk: string) => void) | undefined>;

  constructor(maxBytes: number, spec: Pick<ProcessSpec, "onStdout" | "onStderr">) {
    this.tails = { stdout: new TailBuffer(maxBytes), stderr: new TailBuffer(maxBytes) };
    this.combined = new TailBuffer(maxBytes);
    this.observers = { stdout: spec.onStdout, stderr: spec.onStderr };
  }

  write(stream: OutputStream, chunk: Buffer): void {
    this.keep(stream, this.decoders[stream].write(chunk));
  }

  /** Whatever the decoders still hold (an incomplete character at the very end) becomes U+FFFD, not silence. */
  flush(): void {
    this.keep("stdout", this.decoders.stdout.end());
    this.keep("stderr", this.decoders.stderr.end());
  }

  kept(): KeptOutput {
    return {
      stdoutTail: this.tails.stdout.toString(),
      stderrTail: this.tails.stderr.toString(),
      outputTail: this.combined.toString(),
      droppedBytes: this.combined.dropped,
    };
  }

  private keep(stream: OutputStream, text: string): void {
    if (text === "") return;
    this.tails[stream].push(text);
    this.combined.push(text);
    try {
      this.observers[stream]?.(text);
    } catch {
      // A throwing observer is a bug in its owner; it must not take the supervisor (and the process group) down.
    }
  }
}
