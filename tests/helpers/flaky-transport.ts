import type { ProcessOutcome, ProcessSpec, Transport } from "../../src/transports/port.js";

/**
 * A FAKE of a transport that loses processes (an SSH connection that drops, a container that dies), which cannot be
 * made to happen on cue here: it wraps a real transport, really runs every process to its end (so what an agent wrote
 * stays written, as on a remote machine that went away after the write), and then reports the first `lose` processes
 * that `which` picks as `transport-lost`.
 */
export class FlakyTransportFake implements Transport {
  readonly kind: string;
  /** How many processes were reported lost so far. */
  lost = 0;

  constructor(
    private readonly inner: Transport,
    private readonly lose: number,
    private readonly which: (spec: ProcessSpec) => boolean,
  ) {
    this.kind = inner.kind;
  }

  async run(spec: ProcessSpec): Promise<ProcessOutcome> {
    const outcome = await this.inner.run(spec);
    if (this.lost >= this.lose || !this.which(spec)) return outcome;
    this.lost += 1;
    return { ...outcome, exitCode: null, end: "transport-lost", error: `connection reset by peer (fake loss ${String(this.lost)})` };
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
