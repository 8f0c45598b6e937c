import type { Sink } from "./reporter.js";

/**
 * Lines written in one synchronous burst (the events of one commit: a task's end and the next task's start) go out
 * in one write, at the end of the burst (a microtask), in order. On a pipe or a file each write is a system call,
 * and a run of quick tasks commits several events at a time.
 */
export class BatchedSink implements Sink {
  private pending: string[] = [];

  constructor(private readonly out: Sink) {}

  write(text: string): void {
    if (this.pending.length === 0) {
      queueMicrotask(() => {
        this.flush();
      });
    }
    this.pending.push(text);
  }

  /** Writes what is pending now (a reporter's close calls this). */
  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    this.pending = [];
    this.out.write(text);
  }
}
