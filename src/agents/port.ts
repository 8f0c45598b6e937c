import type { AgentOutcome, SpawnedProcess } from "../core/events.js";
import type { AgentSpec } from "../core/pipeline.js";
import type { Transport } from "../transports/port.js";

export interface AgentRunInput {
  readonly spec: AgentSpec;
  readonly prompt: string;
  /** The prompt also written to a file (ORC_PROMPT_FILE), for agents that take a path. */
  readonly promptFile: string;
  /**
   * A directory the agent may write its own files in (aider's chat history), the same path in every transport. Not
   * the prompt file's directory: that one is read-only inside a sandbox or container.
   */
  readonly scratchDir: string;
  readonly workspace: string;
  readonly runId: string;
  readonly taskId: string;
  /** 1-based. */
  readonly attempt: number;
  /** Base environment for the child (already cleaned of orc's own secrets); agents add their variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly transport: Transport;
  readonly signal: AbortSignal;
  /**
   * The agent's session from an earlier attempt of this task: agents that have sessions continue it (`--resume`) and
   * treat `prompt` as the follow-up message. Absent for a first attempt or with `session: fresh`.
   */
  readonly previousSessionId?: string;
  /** Called as soon as the agent announces its session, so the run can record it before the agent finishes. */
  readonly onSession?: (sessionId: string) => void;
  /** Told the agent process's pid (its process group) as soon as it starts, so a later `resume` can stop an orphan. */
  readonly onSpawn?: (process: SpawnedProcess) => void;
}

/** An agent adapter, chosen by `kind`. Implementations live one per file next to this port. */
export interface AgentPlugin {
  readonly kind: string;
  /**
   * The agent has sessions a retry can continue and may report rate or usage limits: the run loop then reads the
   * task's agent history from the ledger before each attempt (run/agent-call.ts). Absent: plain processes.
   */
  readonly sessions?: boolean;
  run(input: AgentRunInput): Promise<AgentOutcome>;
}
