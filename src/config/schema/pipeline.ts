import { Type, type Static } from "@sinclair/typebox";
import {
  Agent,
  Budget,
  BREAKPOINT_ACTIONS,
  Concurrency,
  Gates,
  Id,
  JSON_SCHEMA_DRAFT,
  RuleHookField,
  MaxAttempts,
  SCHEMA_BASE_URL,
  Strict,
  StringEnum,
  StringList,
  Uses,
  Version,
} from "./fragments.js";
import { Transport } from "./transport.js";

const GateNames = StringList(
  { title: "Gates", description: "Names of the gates (defined under `gates:`) an attempt must pass." },
  "Name of a gate defined under `gates:`",
);

const MergeGateNames = StringList(
  {
    title: "Merge gates",
    description:
      "With `concurrency` above 1: the gates run on the run's workspace after this task's accepted work is merged into it; one that fails takes the merge back and sends the task back for another attempt. Default: the task's own `gates`; `[]` runs none.",
  },
  "Name of a gate defined under `gates:`",
);

const Priority = Type.Integer({
  title: "Priority",
  description: "Among tasks ready at the same time, higher runs first; ties keep file order. Default: 0.",
});

export const TaskSchema = Strict(
  {
    id: Id({ title: "Task id", description: "Unique name of the task; other tasks name it in `needs`." }),
    prompt: Type.Optional(
      Type.String({ title: "Prompt", description: "The instruction given to the agent (Liquid). Give `prompt` or `template`, not both." }),
    ),
    template: Type.Optional(
      Type.String({
        title: "Prompt template",
        description: "Path of a Liquid template file with the prompt, relative to the project root (else to the pipeline file), or `pack:NAME` for a template of a rule pack in `uses:`. Give `prompt` or `template`, not both.",
      }),
    ),
    needs: Type.Optional(
      StringList(
        { title: "Needs", description: "Tasks that must be accepted before this one starts." },
        "Id of a task that must be accepted first",
      ),
    ),
    gates: Type.Optional(GateNames),
    merge_gates: Type.Optional(MergeGateNames),
    max_attempts: Type.Optional(MaxAttempts),
    priority: Type.Optional(Priority),
    protect: Type.Optional(
      StringList(
        { title: "Protected paths", description: "Glob patterns of paths the agent must not change, relative to the workspace." },
        "A glob pattern such as tests/**",
      ),
    ),
    protect_defaults: Type.Optional(
      Type.Boolean({
        title: "Protect the packs' paths",
        description:
          "Whether the paths rule packs protect (test-integrity: the test scripts of package.json, test runner configs and setup files) are protected for this task too. Default true.",
      }),
    ),
    hidden: Type.Optional(
      StringList(
        {
          title: "Hidden paths",
          description:
            "Glob patterns of held-out files (tests the agent never sees): absent from the workspace while the agent works, put back for the gates, and kept after the task.",
        },
        "A glob pattern such as tests/hidden/**",
      ),
    ),
    baseline: Type.Optional(
      Type.Boolean({
        title: "Baseline",
        description:
          "Run the task's command gates once on the untouched workspace before its first attempt, so an attempt whose gate runs fewer tests than before is rejected. Default true.",
      }),
    ),
    agent: Type.Optional(Agent),
    budget: Type.Optional(Budget),
    transport: Type.Optional(Transport),
  },
  { title: "Task", description: "One unit of work handed to an agent." },
);

export const BreakpointSchema = Strict(
  {
    id: Id({ title: "Breakpoint id", description: "Unique name of the breakpoint." }),
    when: Type.String({
      title: "Condition",
      description: 'A safe expression over the attempt\'s context, e.g. "changes.lines_changed > 800".',
    }),
    action: StringEnum(BREAKPOINT_ACTIONS, { title: "Action", description: "What happens when the condition holds." }),
    message: Type.Optional(Type.String({ title: "Message", description: "Shown to the human when the breakpoint fires (Liquid over the rule context)." })),
    hook: Type.Optional(RuleHookField),
  },
  { title: "Breakpoint", description: "A rule that stops the run for a human (or rejects, fails or warns) when its condition holds." },
);

export const PipelineSchema = Strict(
  {
    version: Type.Optional(Version),
    name: Type.Optional(
      Type.String({ title: "Name", description: "Name of the pipeline. Default: the file name without its extension.", minLength: 1 }),
    ),
    uses: Type.Optional(Uses),
    agent: Type.Optional(Agent),
    transport: Type.Optional(Transport),
    budget: Type.Optional(Budget),
    defaults: Type.Optional(
      Strict(
        {
          max_attempts: Type.Optional(MaxAttempts),
          gates: Type.Optional(GateNames),
          merge_gates: Type.Optional(MergeGateNames),
          priority: Type.Optional(Priority),
        },
        { title: "Task defaults", description: "Values for tasks that do not set them." },
      ),
    ),
    concurrency: Type.Optional(Concurrency),
    gates: Type.Optional(Gates),
    tasks: Type.Array(TaskSchema, { title: "Tasks", description: "The tasks, in file order.", minItems: 1 }),
    breakpoints: Type.Optional(
      Type.Array(BreakpointSchema, { title: "Breakpoints", description: "Conditions that stop the run for a human." }),
    ),
    disable_rules: Type.Optional(
      StringList(
        { title: "Disabled rules", description: "Rules of the packs in `uses:` to turn off, by id (`rule` or `pack/rule`)." },
        "Id of a pack's rule",
      ),
    ),
    failed_work: Type.Optional(
      Type.Union([Type.Literal("restore"), Type.Literal("keep")], {
        title: "Failed work",
        description:
          "What a task that fails (or that a human rejects) leaves in the workspace: `restore` (default) puts the workspace back as it was before the task; `keep` leaves the failed attempt's files in place. Its attempts stay in the checkpoint store either way (`orc diff`).",
      }),
    ),
    retry_template: Type.Optional(
      Type.String({
        title: "Retry template",
        description: "Path of the Liquid template for retry prompts, relative to the project root (else to the pipeline file). Default: the one shipped with orc.",
      }),
    ),
  },
  {
    $schema: JSON_SCHEMA_DRAFT,
    $id: `${SCHEMA_BASE_URL}/pipeline.schema.json`,
    title: "orc pipeline",
    description: "A pipeline of coding-agent tasks with quality gates and breakpoints.",
  },
);

export type RawPipeline = Static<typeof PipelineSchema>;
export type RawTask = Static<typeof TaskSchema>;
