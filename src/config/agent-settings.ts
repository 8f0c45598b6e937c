/**
 * The coding-agent fields of `agent:` (model, permission mode, tools, limits, session, …): the schema has checked
 * their types; here durations become milliseconds and paths become absolute. Kept apart from agent.ts so the generic
 * agent fields and the coding-agent ones each read in one place.
 */
import { DEFAULT_AGENT_LIMITS, type AgentLimits, type AgentSpec, type Budget } from "../core/pipeline.js";
import type { Path } from "./describe.js";
import { durationMs } from "./duration-field.js";
import type { RawAgent, RawBudget } from "./schema/fragments.js";
import type { Scope } from "./scope.js";
import { resolveFile } from "./templates.js";


type RawAgentObject = Exclude<RawAgent, string>;

/** The subset of AgentSpec this file owns, as one level sets it. */
export type CodingAgentLayer = Partial<
  Pick<
    AgentSpec,
    | "model"
    | "permissionMode"
    | "allowedTools"
    | "disallowedTools"
    | "maxTurns"
    | "maxBudgetUsd"
    | "appendSystemPrompt"
    | "mcpConfig"
    | "addDirs"
    | "args"
    | "session"
  >
> & { readonly limits?: Partial<AgentLimits> };

/** Drops the undefined fields (exactOptionalPropertyTypes: an optional field is absent, never undefined). */
function defined<T extends object>(entries: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export function readCodingAgent(agent: RawAgentObject, path: Path, scope: Scope): CodingAgentLayer {
  const limits =
    agent.limits === undefined
      ? undefined
      : defined({
          waitMs: durationMs(agent.limits.wait, [...path, "limits", "wait"], scope),
          maxWaitMs: durationMs(agent.limits.max_wait, [...path, "limits", "max_wait"], scope),
        });
  return defined({
    model: agent.model,
    permissionMode: agent.permission_mode,
    allowedTools: agent.allowed_tools,
    disallowedTools: agent.disallowed_tools,
    maxTurns: agent.max_turns,
    maxBudgetUsd: agent.max_budget_usd,
    appendSystemPrompt: agent.append_system_prompt,
    mcpConfig: agent.mcp_config === undefined ? undefined : resolveFile(agent.mcp_config, scope.dirs),
    addDirs: agent.add_dirs?.map((dir) => resolveFile(dir, scope.dirs)),
    args: agent.args,
    session: agent.session,
    limits,
  });
}

/**
 * A level's coding-agent fields override the inherited ones; `limits` merges field by field. Model names, tool names
 * and flags belong to a kind: a level that switches kind inherits only `session` and `limits`.
 */
export function mergeCodingAgent(base: AgentSpec, layer: CodingAgentLayer, sameKind = true): Partial<AgentSpec> {
  const limits =
    layer.limits === undefined && base.limits === undefined
      ? undefined
      : {
          waitMs: layer.limits?.waitMs ?? base.limits?.waitMs ?? DEFAULT_AGENT_LIMITS.waitMs,
          maxWaitMs: layer.limits?.maxWaitMs ?? base.limits?.maxWaitMs ?? DEFAULT_AGENT_LIMITS.maxWaitMs,
        };
  const rest: Omit<CodingAgentLayer, "limits"> & { limits?: unknown } = { ...layer };
  delete rest.limits;
  const inherited: Partial<AgentSpec> = !sameKind ? defined({ session: base.session }) : defined({
    model: base.model,
    permissionMode: base.permissionMode,
    allowedTools: base.allowedTools,
    disallowedTools: base.disallowedTools,
    maxTurns: base.maxTurns,
    maxBudgetUsd: base.maxBudgetUsd,
    appendSystemPrompt: base.appendSystemPrompt,
    mcpConfig: base.mcpConfig,
    addDirs: base.addDirs,
    args: base.args,
    session: base.session,
  });
  return { ...inherited, ...(rest as Omit<CodingAgentLayer, "limits">), ...(limits === undefined ? {} : { limits }) };
}

/** `budget:` with the wall time in milliseconds; undefined when not written. */
export function readBudget(raw: RawBudget | undefined, path: Path, scope: Scope): Budget | undefined {
  if (raw === undefined) return undefined;
  return defined({ usd: raw.usd, tokens: raw.tokens, wallTimeMs: durationMs(raw.wall_time, [...path, "wall_time"], scope) });
}

/** `{budget}` when there is one, else nothing (an absent field, not an undefined one). */
export function budgetField(budget: Budget | undefined): { readonly budget?: Budget } {
  return budget === undefined ? {} : { budget };
}
