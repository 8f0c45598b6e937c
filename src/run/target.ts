import type { Lease } from "../core/events.js";
import type { Pipeline } from "../core/pipeline.js";
import type { Plan } from "../plan/plan.js";

/** The run to execute: what the DB stores of it, and how this process drives it. */
export interface RunTarget {
  readonly runId: string;
  readonly pipeline: Pipeline;
  readonly plan: Plan;
  readonly resumed: boolean;
  /** `--wait`: stay up at a breakpoint until it is resolved from another process, then continue in place. */
  readonly wait?: boolean;
  /** This process, as the run's lease records it. */
  readonly lease?: Lease;
  /** The lease of a dead process this one takes over (a crashed run's); see `run.started`. */
  readonly takeover?: Lease;
}
