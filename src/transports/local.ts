import type { SpawnedProcess } from "../core/events.js";
import type { ProcessOutcome, ProcessSpec, Transport } from "./port.js";
import { killGroupIfSame } from "./process-identity.js";
import { supervise } from "./supervisor.js";

/** Runs processes on this machine, through the one supervisor. */
export class LocalTransport implements Transport {
  readonly kind = "local";

  run(spec: ProcessSpec): Promise<ProcessOutcome> {
    return supervise(spec);
  }

  stopOrphan(process: SpawnedProcess): boolean {
    return killGroupIfSame(process);
  }
}
