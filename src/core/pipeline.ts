/**
 * The typed, normalised pipeline that config/ produces and every later room consumes. Shorthands are expanded,
 * durations are milliseconds, paths are absolute, and template files are read in (so a run stored in the DB can be
 * resumed without re-reading the user's files). The raw YAML shape lives in src/config/schema/ (one schema source).
 */
export interface Pipeline {
  readonly version: 1;
  readonly name: string;
  /** Absolute path of the pipeline file. */
  readonly file: string;
  /** Directory relative paths in the pipeline resolve against. */
  readonly dir: string;
  readonly agent: AgentSpec;
  readonly concurrency: number;
  readonly gates: Readonly<Record<string, GateSpec>>;
  readonly tasks: readonly TaskSpec[];
  readonly breakpoints: readonly BreakpointSpec[];
  /** Retry prompt template (Liquid source). Default: templates/retry.liquid shipped with orc. */
  readonly retryTemplate: TemplateSource;
  /**
   * Rule packs in effect: orchestrator.yaml's `uses`, then the pipeline's, duplicates removed. Local packs are absolute
   * paths; npm package names and git URLs are kept as written. Optional only so hand-built pipelines may omit it.
   */
  readonly uses?: readonly string[];
  /** Pack rule ids (`rule` or `pack/rule`) the pipeline turns off (`disable_rules:`). */
  readonly disableRules?: readonly string[];
  /**
   * The rules in effect, packs resolved and precedence applied (src/rules/packs.ts); filled in by the CLI before the
   * run is stored, so `orc resume` never fetches a pack again. Absent: only `breakpoints` apply.
   */
  readonly rules?: readonly RuleSpec[];
  /** The packs those rules came from, with the commit a git pack resolved to. */
  readonly packs?: readonly PackInfo[];
}

export interface TemplateSource {
  /** Absolute path it was read from, or `builtin:NAME`. */
  readonly path: string;
  readonly source: string;
}

export interface AgentSpec {
  readonly kind: string;
  /** `command` agent: the command line, run by `sh -c` in the workspace with the prompt on stdin. */
  readonly run?: string;
  readonly timeoutMs: number;
  readonly inactivityTimeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
  /** Kind-specific settings, passed through to the agent plugin untouched. */
  readonly options: Readonly<Record<string, unknown>>;
}

export type GateSpec = CommandGateSpec | JudgeGateSpec;

export interface CommandGateSpec {
  readonly kind: "command";
  readonly id: string;
  readonly run: string;
  readonly timeoutMs: number;
  /** A test report the command writes; its counts become evidence. */
  readonly report?: { readonly format: "junit" | "tap"; readonly path?: string };
}

export interface JudgeGateSpec {
  readonly kind: "judge";
  readonly id: string;
  readonly rubric?: TemplateSource;
  readonly threshold: number;
}

export interface TaskSpec {
  readonly id: string;
  readonly prompt: TemplateSource;
  readonly needs: readonly string[];
  readonly gates: readonly string[];
  readonly maxAttempts: number;
  /** Higher runs first among ready tasks; ties keep file order. */
  readonly priority: number;
  readonly protect: readonly string[];
  readonly agent: AgentSpec;
}

export interface BreakpointSpec {
  readonly id: string;
  readonly when: string;
  readonly action: "pause" | "reject" | "fail" | "warn";
  readonly message?: string;
  /** Where in an attempt the rule is evaluated (docs/rules.md). Default: after_attempt. */
  readonly hook?: RuleHook;
}

export type RuleAction = BreakpointSpec["action"];
export type RuleHook = "before_task" | "after_attempt" | "before_accept" | "on_failure";
export const RULE_HOOKS: readonly RuleHook[] = ["before_task", "after_attempt", "before_accept", "on_failure"];

/** A rule ready to evaluate: a pipeline breakpoint or a pack's rule, with where it came from. */
export interface RuleSpec {
  readonly id: string;
  readonly when: string;
  readonly action: RuleAction;
  readonly message?: string;
  readonly hook: RuleHook;
  /** `pipeline`, `builtin`, or the pack's name. */
  readonly source: string;
}

export interface PackInfo {
  readonly name: string;
  readonly version: string;
  /** The `uses:` entry as written (local packs: the absolute path). */
  readonly source: string;
  readonly kind: "local" | "package" | "git";
  /** The pack file that was read. */
  readonly file: string;
  /** git packs: the commit the ref resolved to. */
  readonly commit?: string;
}

/** Project-wide settings from orchestrator.yaml, every field defaulted. */
export interface Settings {
  /** Absolute path of orchestrator.yaml, or undefined when none was found. */
  readonly file: string | undefined;
  /** The project root: the directory of orchestrator.yaml, else the current directory. */
  readonly root: string;
  readonly stateDir: string;
  readonly agent: AgentSpec;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly uses: readonly string[];
}
