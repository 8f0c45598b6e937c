import { Type, type Static } from "@sinclair/typebox";
import { BREAKPOINT_ACTIONS, Gates, Id, JSON_SCHEMA_DRAFT, RuleHookField, SCHEMA_BASE_URL, Strict, StringEnum, StringList } from "./fragments.js";

export const RuleSchema = Strict(
  {
    id: Id({ title: "Rule id", description: "Unique name of the rule within the pack." }),
    when: Type.String({
      title: "Condition",
      description: 'A safe expression over the attempt\'s context, e.g. "changes.files.exists(f, f.startsWith(\\"tests/\\"))".',
    }),
    action: StringEnum(BREAKPOINT_ACTIONS, { title: "Action", description: "What happens when the condition holds." }),
    message: Type.Optional(Type.String({ title: "Message", description: "Explains the rule when it fires (Liquid over the rule context)." })),
    hook: Type.Optional(RuleHookField),
  },
  { title: "Rule", description: "A policy rule evaluated over each attempt." },
);

export const RulePackSchema = Strict(
  {
    name: Type.String({ title: "Name", description: "Name of the rule pack.", minLength: 1 }),
    version: Type.Union([Type.String(), Type.Number()], { title: "Version", description: 'The pack\'s own version, e.g. "1.0.0".' }),
    rules: Type.Array(RuleSchema, { title: "Rules", description: "The pack's rules." }),
    gates: Type.Optional(Gates),
    protect: Type.Optional(
      StringList(
        {
          title: "Protected paths",
          description:
            "Glob patterns every task that uses the pack protects (unless it sets `protect_defaults: false`): before the gates run they are put back as they were before the attempt. `FILE#SECTION` protects one part of a file only: a top-level key of a JSON file (`package.json#scripts`), or the sections of a TOML or INI file whose header starts with SECTION (`pyproject.toml#tool.pytest`, `Cargo.toml#test`).",
        },
        "A glob pattern such as jest.config.*, or FILE#SECTION",
      ),
    ),
    templates: Type.Optional(
      Type.Record(Type.String(), Type.String({ description: "Path of a Liquid template, relative to the pack file." }), {
        title: "Templates",
        description: "Named Liquid templates the pack provides; a pipeline names one as `pack:NAME`.",
      }),
    ),
  },
  {
    $schema: JSON_SCHEMA_DRAFT,
    $id: `${SCHEMA_BASE_URL}/rule-pack.schema.json`,
    title: "orc rule pack",
    description: "Policy rules (and optionally gates and templates) that pipelines apply with `uses:`.",
  },
);

export type RawRulePack = Static<typeof RulePackSchema>;
