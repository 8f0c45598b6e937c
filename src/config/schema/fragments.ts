/**
 * Schema pieces shared by orchestrator.yaml, pipelines and rule packs. Every field carries a title and a description
 * (editors show them on hover); objects refuse unknown keys except the pass-through ones (`llm`, agent `options`).
 */
import { Type, type SchemaOptions, type Static, type TUnsafe } from "@sinclair/typebox";
import { AGENT_KINDS } from "../../core/kinds.js";
import { PERMISSION_MODES, SESSION_MODES } from "../../core/pipeline.js";
import { FORMAT_VERSION, ID_PATTERN, ID_RULE, REPORT_FORMATS } from "./constants.js";

// Run-time values live in constants.ts (no TypeBox there); re-exported so existing imports keep working.
export {
  BREAKPOINT_ACTIONS,
  FORMAT_VERSION,
  ID_PATTERN,
  JSON_SCHEMA_DRAFT,
  PATTERN_HINTS,
  REPORT_FORMATS,
  SCHEMA_BASE_URL,
} from "./constants.js";

interface Doc {
  readonly title: string;
  readonly description: string;
}

/** A string restricted to `values`; emitted as a JSON Schema `enum` (one error that lists the values, unlike anyOf). */
export function StringEnum<const T extends readonly string[]>(values: T, doc: Doc): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...doc, type: "string", enum: [...values] });
}

export function Id(doc: Doc) {
  return Type.String({ ...doc, description: `${doc.description} Use ${ID_RULE}.`, pattern: ID_PATTERN });
}

/** One string or a list of them: `needs: design` is short for `needs: [design]`. */
export function StringList(doc: Doc, item: string) {
  return Type.Union([Type.String({ description: `${item} (shorthand for a list of one).` }), Type.Array(Type.String({ description: item }))], doc);
}

export function Duration(doc: Doc) {
  return Type.Union(
    [
      Type.String({ description: 'A duration such as "90s", "10m", "1h30m" or "500ms".' }),
      Type.Number({ minimum: 0, description: "A number of seconds." }),
    ],
    { ...doc, description: `${doc.description} Write e.g. "90s", "10m", "1h30m", "500ms", or a number of seconds.` },
  );
}

export function Strict<T extends Parameters<typeof Type.Object>[0]>(properties: T, options: SchemaOptions & Doc) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

export const MaxAttempts = Type.Integer({
  title: "Maximum attempts",
  description: "How many times a task may be attempted (the first try included) before it fails.",
  minimum: 1,
});

export const Concurrency = Type.Integer({
  title: "Concurrency",
  description: "How many tasks may run at the same time.",
  minimum: 1,
});

export const Version = Type.Integer({
  title: "Format version",
  description: `Version of this file format. This orc reads version ${FORMAT_VERSION} (the default).`,
});

export const Uses = StringList(
  {
    title: "Rule packs",
    description:
      "Rule packs to apply: a local path (./rules/x.yaml, relative to the project root, else to this file), an npm package name, or a git URL.",
  },
  "A rule pack: a local path, an npm package name, or a git URL",
);

const ToolList = (doc: Doc) => Type.Array(Type.String({ description: 'A tool name or pattern, e.g. "Edit" or "Bash(npm test:*)".' }), doc);

/** Settings of the coding-agent kinds (claude-code, codex, qwen-code, opencode, aider); docs/agents.md maps them to flags. */
const CodingAgentFields = {
  model: Type.Optional(Type.String({ title: "Model", description: "The model the agent uses (passed to its --model flag).", minLength: 1 })),
  permission_mode: Type.Optional(
    StringEnum(PERMISSION_MODES, {
      title: "Permission mode",
      description: "claude-code: how tool permissions are granted (--permission-mode). Default: acceptEdits.",
    }),
  ),
  allowed_tools: Type.Optional(ToolList({ title: "Allowed tools", description: "Tools the agent may use without asking." })),
  disallowed_tools: Type.Optional(ToolList({ title: "Disallowed tools", description: "Tools the agent must not use." })),
  max_turns: Type.Optional(Type.Integer({ title: "Maximum turns", description: "Most model round trips in one attempt.", minimum: 1 })),
  max_budget_usd: Type.Optional(
    Type.Number({ title: "Maximum budget (USD)", description: "The agent's own spending cap for one attempt.", exclusiveMinimum: 0 }),
  ),
  append_system_prompt: Type.Optional(
    Type.String({ title: "Extra system prompt", description: "Text appended to the agent's system prompt." }),
  ),
  mcp_config: Type.Optional(
    Type.String({ title: "MCP configuration", description: "Path of an MCP servers file, relative to the project root (else to this file)." }),
  ),
  add_dirs: Type.Optional(
    Type.Array(Type.String({ description: "A directory, relative to the project root (else to this file)." }), {
      title: "Extra directories",
      description: "Directories outside the workspace the agent may work in.",
    }),
  ),
  args: Type.Optional(
    Type.Array(Type.String({ description: "One argument." }), {
      title: "Extra arguments",
      description: "Arguments appended to the agent's command line as given (never through a shell).",
    }),
  ),
  session: Type.Optional(
    StringEnum(SESSION_MODES, {
      title: "Session",
      description: "resume (default): a retry continues the agent's conversation with the follow-up prompt; fresh: each attempt starts anew.",
    }),
  ),
  limits: Type.Optional(
    Strict(
      {
        wait: Type.Optional(
          Duration({ title: "Wait", description: "How long to wait after a rate or usage limit that names no reset time. Default: 1m." }),
        ),
        max_wait: Type.Optional(
          Duration({ title: "Maximum wait", description: "The longest wait for a limit to lift; beyond it the run pauses for a human. Default: 6h." }),
        ),
      },
      { title: "Limits", description: "What to do when the agent hits a rate, usage or overload limit: wait, then continue the session." },
    ),
  ),
};

/** `budget:` at pipeline (the whole run) and task level; checked before each attempt starts. */
export const Budget = Strict(
  {
    usd: Type.Optional(Type.Number({ title: "USD", description: "Most the agents may cost, in US dollars.", exclusiveMinimum: 0 })),
    tokens: Type.Optional(
      Type.Integer({ title: "Tokens", description: "Most tokens (input, output and cache together) the agents may use.", minimum: 1 }),
    ),
    wall_time: Type.Optional(Duration({ title: "Wall time", description: "Longest time from the first attempt's start." })),
  },
  { title: "Budget", description: "Spending limits checked before each attempt starts; reaching one ends the task as budget-exhausted." },
);

const AgentObject = Strict(
  {
    kind: Type.Optional(
      Type.String({
        title: "Agent kind",
        description: `Which agent runs the tasks. This build supports: ${AGENT_KINDS.join(", ")}. Default: inherited, else "command".`,
        examples: [...AGENT_KINDS],
      }),
    ),
    run: Type.Optional(
      Type.String({
        title: "Command line",
        description:
          "For the command agent: the command line, run by `sh -c` in the workspace with the prompt on standard input.",
      }),
    ),
    timeout: Type.Optional(Duration({ title: "Timeout", description: "Longest time one attempt may run. Default: 30m." })),
    inactivity_timeout: Type.Optional(
      Duration({ title: "Inactivity timeout", description: "Longest time the agent may print nothing. Default: 10m." }),
    ),
    env: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: "The variable's value." }), {
        title: "Environment",
        description: "Extra environment variables for the agent process (merged over inherited ones).",
      }),
    ),
    options: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        title: "Agent options",
        description: "Kind-specific settings, passed to the agent plugin untouched.",
      }),
    ),
    ...CodingAgentFields,
  },
  { title: "Agent settings", description: "How the agent is started." },
);

/**
 * `agent: NAME` is short for `agent: {kind: NAME}`: the kind is what people change most, and a command line alone
 * (`agent: "my-agent --flag"`) would be ambiguous with a kind name.
 */
export const Agent = Type.Union([Type.String({ description: "Shorthand for { kind: NAME }." }), AgentObject], {
  title: "Agent",
  description: "The coding agent that runs tasks; fields given here override inherited ones (orchestrator.yaml, then the pipeline, then the task).",
});

const GateObject = Strict(
  {
    run: Type.Optional(
      Type.String({ title: "Command line", description: "Command gate: run by `sh -c` in the workspace; passes on exit 0." }),
    ),
    timeout: Type.Optional(Duration({ title: "Timeout", description: "Longest time the gate may run. Default: 10m." })),
    report: Type.Optional(
      Strict(
        {
          format: StringEnum(REPORT_FORMATS, { title: "Report format", description: "Format of the test report the command writes." }),
          path: Type.Optional(
            Type.String({ title: "Report path", description: "Where the command writes the report, relative to the workspace." }),
          ),
        },
        { title: "Test report", description: "A test report the command writes; its counts become evidence." },
      ),
    ),
    judge: Type.Optional(
      Strict(
        {
          rubric: Type.Optional(
            Type.String({ title: "Rubric template", description: "Liquid template with the rubric the judge scores against (a path, or `pack:NAME` for a rule pack's template)." }),
          ),
          threshold: Type.Optional(
            Type.Number({ title: "Threshold", description: "Lowest score (0 to 1) that passes. Default: 0.7.", minimum: 0, maximum: 1 }),
          ),
        },
        { title: "LLM judge", description: "An LLM judge gate: scores the attempt against a rubric." },
      ),
    ),
  },
  { title: "Gate settings", description: "A command gate (`run`) or an LLM judge gate (`judge`)." },
);

/** `tests: "npm test"` is short for `tests: {run: "npm test"}`. */
export const Gate = Type.Union([Type.String({ description: 'Shorthand for { run: "COMMAND" }.' }), GateObject], {
  title: "Gate",
  description: "A quality check an attempt must pass: a command (exit 0 passes) or an LLM judge.",
});

export const Gates = Type.Record(Type.String(), Gate, {
  title: "Gates",
  description: "Named quality gates that tasks refer to by name.",
});

/** Where in an attempt a rule is evaluated (docs/rules.md). */
export const RuleHookField = StringEnum(["before_task", "after_attempt", "before_accept", "on_failure"] as const, {
  title: "Hook",
  description:
    "When the rule is evaluated: before_task (before each attempt starts), after_attempt (after the gates; the default), before_accept (only when the attempt would be accepted), on_failure (only when it would not).",
});

/** `notify:` in orchestrator.yaml: who hears about a breakpoint opening. */
export const Notify = Strict(
  {
    webhook: Type.Optional(
      Type.String({ title: "Webhook", description: "URL that receives a JSON POST for each breakpoint that opens (retried with backoff).", minLength: 1 }),
    ),
    command: Type.Optional(
      Type.String({
        title: "Command",
        description: "Command line run by `sh -c` for each breakpoint that opens; the breakpoint arrives as JSON on stdin and in ORC_BREAKPOINT_* variables.",
        minLength: 1,
      }),
    ),
  },
  { title: "Notifications", description: "Who is told when a breakpoint opens." },
);

export type RawAgent = Static<typeof Agent>;
export type RawBudget = Static<typeof Budget>;
export type RawGate = Static<typeof Gate>;
export type RawGates = Static<typeof Gates>;
export type RawStringList = Static<ReturnType<typeof StringList>>;
