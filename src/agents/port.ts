import type { AgentOutcome } from "../core/events.js";
import type { AgentSpec } from "../core/pipeline.js";
import type { Transport } from "../transports/port.js";

export interface AgentRunInput {
  readonly spec: AgentSpec;
  readonly prompt: string;
  /** The prompt also written to a file (ORC_PROMPT_FILE), for agents that take a path. */
  readonly promptFile: string;
  readonly workspace: string;
  readonly runId: string;
  readonly taskId: string;
  /** 1-based. */
  readonly attempt: number;
  /** Base environment for the child (already cleaned of orc's own secrets); agents add their variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly transport: Transport;
  readonly signal: AbortSignal;
}

/** An agent adapter, chosen by `kind`. Implementations live one per file next to this port. */
export interface AgentPlugin {
  readonly kind: string;
  run(input: AgentRunInput): Promise<AgentOutcome>;
}
