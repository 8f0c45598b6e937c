/**
 * The gate port: what a gate runs with and what it returns. run/ calls gates through a GateRegistry
 * (src/quality/registry.ts) keyed by the gate's kind; the kinds are `command` (src/quality/command-gate.ts) and
 * `judge` (src/quality/judge-gate.ts).
 */
import type { FileChange, GateOutcome } from "../core/events.js";
import type { GateSpec } from "../core/pipeline.js";
import type { Transport } from "../transports/port.js";

/** What a gate runs with: the attempt's workspace and transport (the agent's), and the run's signal. */
export interface GateContext {
  readonly workspace: string;
  readonly transport: Transport;
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** What the attempt did, for gates that weigh evidence (the LLM judge). */
  readonly evidence?: AttemptEvidence;
}

/** The evidence of one attempt as a judge gate sees it. */
export interface AttemptEvidence {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  /** The task's own prompt (without the retry wrapper, so it is the same text on every attempt). */
  readonly taskPrompt: string;
  /** What the agent says it did. */
  readonly claims: string;
  readonly files: readonly FileChange[];
  /** The unified diff of the attempt, computed on demand ("" when there is none). */
  readonly diff: () => Promise<string>;
  /** Outcomes of the gates that ran before this one in this attempt. */
  readonly gates: readonly GateOutcome[];
  /** The task's command gates on the untouched workspace, before its first attempt (empty when none ran). */
  readonly baseline?: readonly GateOutcome[];
}

export type GateKind = GateSpec["kind"];

/** One kind of gate. */
export interface Gate<K extends GateKind = GateKind> {
  run(spec: Extract<GateSpec, { kind: K }>, ctx: GateContext): Promise<GateOutcome>;
}

/** What run/ sees: any gate spec in, its outcome out. */
export interface GateRunner {
  run(spec: GateSpec, ctx: GateContext): Promise<GateOutcome>;
}
