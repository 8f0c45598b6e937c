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
  /** `failed_work: keep`: a failed or rejected task leaves its last attempt's files in place instead of restoring. */
  readonly keepFailedWork?: boolean;
  /**
   * Rule packs in effect: orchestrator.yaml's `uses`, then the pipeline's, duplicates removed. Local packs are absolute
   * paths; npm package names and git URLs are kept as written. Optional only so hand-built pipelines may omit it.
   */
  readonly uses?: readonly string[];
  /** Limits for the whole run (every task's attempts together, wall time since the run was created). */
  readonly budget?: Budget;
  /** Pack rule ids (`rule` or `pack/rule`) the pipeline turns off (`disable_rules:`). */
  readonly disableRules?: readonly string[];
  /**
   * The rules in effect but the built-in ones: packs resolved and precedence applied when the pipeline is loaded
   * (src/config/packs/), stored with the run, so `orc resume` never fetches a pack again. Absent (pipelines built
   * by hand): only `breakpoints` apply.
   */
  readonly rules?: readonly RuleSpec[];
  /** The packs those rules came from, with the commit a git pack resolved to. */
  readonly packs?: readonly PackInfo[];
  /**
   * Where agents and gates run: the pipeline's `transport:`, else orchestrator.yaml's; absent when neither names one,
   * until `orc apply` stores its default (cli/default-transport.ts). Absent in a stored run: one from before, local.
   */
  readonly transport?: TransportSpec;
}

/** `transport:`, normalised. */
export type TransportSpec = LocalTransportSpec | SandboxTransportSpec | DockerTransportSpec | SshTransportSpec;

export interface LocalTransportSpec {
  readonly kind: "local";
}

/** A bubblewrap sandbox (src/transports/sandbox.ts). */
export interface SandboxTransportSpec {
  readonly kind: "sandbox";
  /** false: no network at all, loopback included (`network: off`). */
  readonly network: boolean;
  /** Paths relative to the user's home bound read-only into the sandbox's own home (an agent's config, credentials). */
  readonly home: readonly string[];
  /** Names of host environment variables passed in, besides the few every process needs (PATH, LANG, …). */
  readonly env: readonly string[];
}

/** A container per run from a local image, through the Docker engine API (src/transports/docker/). */
export interface DockerTransportSpec {
  readonly kind: "docker";
  readonly image: string;
  /** `none`: no network at all (default); `default`: the engine's default network; `host`: the host's own (loopback included). */
  readonly network: "none" | "default" | "host";
  /** Limits: bytes of memory, CPUs (fractions allowed), processes. */
  readonly memory: number;
  readonly cpus: number;
  readonly pids: number;
  /** The user processes run as inside; absent: the workspace's owner (uid:gid), so its files stay the user's. */
  readonly user?: string;
  /** Names of host environment variables passed in, besides the few every process needs (LANG, TERM, …). */
  readonly env: readonly string[];
  /** The engine's socket; absent: DOCKER_HOST (unix://…) or /var/run/docker.sock. */
  readonly socket?: string;
}

/** A remote machine over SSH (src/transports/ssh/): the workspace is copied there and changes come back. */
export interface SshTransportSpec {
  readonly kind: "ssh";
  readonly host: string;
  readonly port: number;
  /** Undefined: the user orc runs as. */
  readonly user?: string;
  /** A private key file (`~/` is the home at run time); undefined: the ssh-agent at SSH_AUTH_SOCK. */
  readonly key?: string;
  /** The name of the environment variable holding the key's passphrase (never the passphrase itself). */
  readonly passphraseEnv?: string;
  /** The known_hosts file host keys are checked against (`~/` is the home at run time). */
  readonly knownHosts: string;
  /** A pinned host key, `SHA256:...`: accepted whatever known_hosts says. */
  readonly fingerprint?: string;
  /** The remote workspace directory; undefined: `~/.orc/workspaces/<project>-<hash>`. */
  readonly workspace?: string;
  /** Names of host environment variables passed to remote processes. */
  readonly env: readonly string[];
}

export const LOCAL_TRANSPORT: LocalTransportSpec = { kind: "local" };

export interface TemplateSource {
  /** Absolute path it was read from, or `builtin:NAME`. */
  readonly path: string;
  readonly source: string;
  /** `pack:NAME` as the pipeline wrote it, when the template is a rule pack's. */
  readonly ref?: string;
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
  // Coding-agent settings (claude-code, codex, qwen-code, opencode, aider); each adapter maps the ones its CLI has
  // to flags and ignores the rest (docs/agents.md lists which).
  readonly model?: string;
  /** claude-code `--permission-mode`; default `acceptEdits`. */
  readonly permissionMode?: PermissionMode;
  readonly allowedTools?: readonly string[];
  readonly disallowedTools?: readonly string[];
  readonly maxTurns?: number;
  /** The agent's own spending cap for one attempt (claude-code `--max-budget-usd`). */
  readonly maxBudgetUsd?: number;
  readonly appendSystemPrompt?: string;
  /** Path of an MCP server configuration file (absolute). */
  readonly mcpConfig?: string;
  /** Extra directories the agent may work in (absolute). */
  readonly addDirs?: readonly string[];
  /** Extra command-line arguments, appended as given (never through a shell). */
  readonly args?: readonly string[];
  /** `resume` (default): a retry continues the agent's session with the follow-up prompt; `fresh` starts anew. */
  readonly session?: (typeof SESSION_MODES)[number];
  /** Rate and usage limits: the wait when the agent names no reset time, and the longest wait before pausing. */
  readonly limits?: AgentLimits;
}

export const PERMISSION_MODES = ["acceptEdits", "default", "plan", "bypassPermissions", "dontAsk"] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];
export const SESSION_MODES = ["resume", "fresh"] as const;

export interface AgentLimits {
  readonly waitMs: number;
  readonly maxWaitMs: number;
}

/** Used when `agent.limits` is not set: wait 1 minute when no reset time is given, at most 6 hours in all. */
export const DEFAULT_AGENT_LIMITS: AgentLimits = { waitMs: 60_000, maxWaitMs: 6 * 3_600_000 };

/** Spending limits, checked before each attempt starts; reaching one ends the task as `budget-exhausted`. */
export interface Budget {
  readonly usd?: number;
  readonly tokens?: number;
  readonly wallTimeMs?: number;
}

export type GateSpec = CommandGateSpec | JudgeGateSpec;

export interface CommandGateSpec {
  readonly kind: "command";
  readonly id: string;
  /** Name of the rule pack that defined the gate; absent for the pipeline's own gates. */
  readonly pack?: string;
  readonly run: string;
  readonly timeoutMs: number;
  /** A test report the command writes; its counts become evidence. */
  readonly report?: { readonly format: "junit" | "tap"; readonly path?: string };
}

export interface JudgeGateSpec {
  readonly kind: "judge";
  readonly id: string;
  /** Name of the rule pack that defined the gate; absent for the pipeline's own gates. */
  readonly pack?: string;
  readonly rubric?: TemplateSource;
  readonly threshold: number;
  /** The whole judgement (both tries); each LLM request also has `llm.timeout`. Optional for runs stored before. */
  readonly timeoutMs?: number;
}

export interface TaskSpec {
  readonly id: string;
  readonly prompt: TemplateSource;
  readonly needs: readonly string[];
  readonly gates: readonly string[];
  readonly maxAttempts: number;
  /** Higher runs first among ready tasks; ties keep file order. */
  readonly priority: number;
  /**
   * Globs of paths put back as they were before the attempt when the gates run (the task's own `protect:`, then the
   * packs' unless `protect_defaults: false`). `FILE#SECTION` protects one part of a file (src/run/protect-sections.ts).
   */
  readonly protect: readonly string[];
  /** Globs of held-out files: removed while the agent works, put back for the gates. Absent: none. */
  readonly hidden?: readonly string[];
  /** false: no baseline run of the gates before the first attempt (`baseline: false`). Absent: a baseline runs. */
  readonly baseline?: boolean;
  /**
   * Tasks side by side: the gates run on the run's workspace after this task's work is merged into it (`merge_gates:`
   * of the task, else of the pipeline's `defaults:`). Absent: the task's own `gates`.
   */
  readonly mergeGates?: readonly string[];
  readonly agent: AgentSpec;
  /** This task's own limits (all its attempts together); the run's `Pipeline.budget` applies as well. */
  readonly budget?: Budget;
  /** Where this task's agent and gates run, when the task says (`transport:` on the task); absent: the pipeline's. */
  readonly transport?: TransportSpec;
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
  /** `shipped`: one of the packs in orc's own rules/ directory (`uses: [orc:safety]` or `uses: [safety]`). */
  readonly kind: "local" | "package" | "git" | "shipped";
  /** The pack file that was read. */
  readonly file: string;
  /** git packs: the commit the ref resolved to. */
  readonly commit?: string;
}

export type StateSource = "env" | "config" | "legacy" | "default";

/** Project-wide settings from orchestrator.yaml, every field defaulted. */
export interface Settings {
  /** Absolute path of orchestrator.yaml, or undefined when none was found. */
  readonly file: string | undefined;
  /** The project root: the directory of orchestrator.yaml, else the current directory. */
  readonly root: string;
  /** Where runs and checkpoints are kept (src/config/state-location.ts). */
  readonly stateDir: string;
  /** Why there: ORC_STATE_DIR, `state:`, an existing `<root>/.orc/state.db`, or the default outside the project. */
  readonly stateSource: StateSource;
  readonly agent: AgentSpec;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly uses: readonly string[];
  /** orchestrator.yaml `llm:` (judge gates, prompt rewriting); absent means the defaults (llama-cpp, no model). */
  readonly llm?: LlmSettings;
  /** Who hears about a breakpoint opening (orchestrator.yaml `notify:`; never stored in the DB). */
  readonly notify?: NotifySpec;
  /** orchestrator.yaml `transport:`; absent means `local`. */
  readonly transport?: TransportSpec;
}

export interface NotifySpec {
  readonly webhook?: string;
  readonly command?: string;
}

/** orchestrator.yaml `llm:`, normalised (durations in ms, paths absolute). The provider is chosen by `kind`. */
export interface LlmSettings {
  readonly kind: "llama-cpp" | "ollama" | "openai-compatible";
  /** llama-cpp: a GGUF path or an `hf:` URI; ollama / openai-compatible: the model name the server knows. */
  readonly model?: string;
  /** ollama / openai-compatible: the server's base URL. */
  readonly url?: string;
  /** Name of the environment variable holding the API key (the key itself is never stored). */
  readonly apiKeyEnv?: string;
  /** llama-cpp: "auto" (CUDA, Vulkan, else CPU), a backend name, or false for CPU only. */
  readonly gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
  readonly threads?: number;
  readonly contextSize: number;
  /** llama-cpp: layers offloaded to the GPU; "auto" fits them to free VRAM. */
  readonly gpuLayers: number | "auto" | "max";
  /** One request, prompt evaluation and generation together. */
  readonly timeoutMs: number;
  /** Budget for a judge prompt (the evidence is cut to fit). */
  readonly maxPromptTokens: number;
  readonly maxOutputTokens: number;
  /** Let the LLM rewrite retry prompts (within the prompt token budget). */
  readonly optimizePrompts: boolean;
  /** Where `hf:` models are downloaded to; default: STATE_DIR/models. */
  readonly modelsDir?: string;
}
