import type { AgentSpec } from "../core/pipeline.js";
import { AGENT_KINDS } from "../core/kinds.js";
import { didYouMean, prefix, q, subject, type Path } from "./describe.js";
import { durationMs } from "./duration-field.js";
import { mergeCodingAgent, readCodingAgent, type CodingAgentLayer } from "./agent-settings.js";
import type { RawAgent } from "./schema/fragments.js";
import type { Scope } from "./scope.js";

/** The agent fields one level (orchestrator.yaml, pipeline, task) sets. */
export interface AgentLayer {
  readonly kind?: string;
  readonly run?: string;
  readonly timeoutMs?: number;
  readonly inactivityTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly options?: Readonly<Record<string, unknown>>;
  /** model, permission mode, tools, session, limits, …: see agent-settings.ts. */
  readonly coding?: CodingAgentLayer;
}

/** Reads one level's `agent:` (`agent: NAME` is short for `{kind: NAME}`), reporting unknown kinds and bad durations. */
export function readAgent(raw: RawAgent | undefined, path: Path, scope: Scope): AgentLayer | undefined {
  if (raw === undefined) return undefined;
  const agent = typeof raw === "string" ? { kind: raw } : raw;
  const { kind, run, env, options } = agent;
  if (kind !== undefined && !(AGENT_KINDS as readonly string[]).includes(kind)) {
    const hint = didYouMean(kind, AGENT_KINDS) || `; this build supports: ${AGENT_KINDS.join(", ")}`;
    const where = prefix(subject(scope.root, path).label);
    scope.out.error("unknown-agent-kind", `${where}unknown agent kind ${q(kind)}${hint}`, typeof raw === "string" ? path : [...path, "kind"]);
  }
  const timeoutMs = durationMs(agent.timeout, [...path, "timeout"], scope);
  const inactivityTimeoutMs = durationMs(agent.inactivity_timeout, [...path, "inactivity_timeout"], scope);
  return {
    ...(kind === undefined ? {} : { kind }),
    ...(run === undefined ? {} : { run }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs }),
    ...(env === undefined ? {} : { env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) }),
    ...(options === undefined ? {} : { options }),
    ...(typeof raw === "string" ? {} : { coding: readCodingAgent(raw, path, scope) }),
  };
}

/**
 * A level's fields override the inherited ones; `env` and `options` merge key by key. `run` and `options` belong to a
 * kind, so a level that switches to another kind does not inherit them.
 */
export function mergeAgent(base: AgentSpec, layer: AgentLayer | undefined): AgentSpec {
  if (layer === undefined) return base;
  const sameKind = layer.kind === undefined || layer.kind === base.kind;
  const run = layer.run ?? (sameKind ? base.run : undefined);
  return {
    kind: layer.kind ?? base.kind,
    ...(run === undefined ? {} : { run }),
    timeoutMs: layer.timeoutMs ?? base.timeoutMs,
    inactivityTimeoutMs: layer.inactivityTimeoutMs ?? base.inactivityTimeoutMs,
    env: { ...base.env, ...layer.env },
    options: { ...(sameKind ? base.options : {}), ...layer.options },
    ...mergeCodingAgent(base, layer.coding ?? {}, sameKind),
  };
}

/** The `command` agent cannot start without a command line: report it where the agent was last set. */
export function checkRunnable(agent: AgentSpec, path: Path, scope: Scope, hint = ""): void {
  if (agent.kind !== "command" || agent.run !== undefined) return;
  const where = prefix(subject(scope.root, path).label);
  scope.out.error("missing-run", `${where}agent kind "command" needs "run" (the command line that starts the agent)${hint}`, path);
}
