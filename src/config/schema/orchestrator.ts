import { Type, type Static } from "@sinclair/typebox";
import { Llm } from "./llm.js";
import { Transport } from "./transport.js";
import { Agent, Concurrency, JSON_SCHEMA_DRAFT, MaxAttempts, Notify, SCHEMA_BASE_URL, Strict, Uses, Version } from "./fragments.js";

export const OrchestratorSchema = Strict(
  {
    version: Type.Optional(Version),
    agent: Type.Optional(Agent),
    llm: Type.Optional(Llm),
    state: Type.Optional(
      Type.Union(
        [
          Type.String({ description: "The state directory." }),
          Strict(
            { dir: Type.String({ title: "State directory", description: "The state directory, relative to this file." }) },
            { title: "State settings", description: "Where orc keeps its state." },
          ),
        ],
        {
          title: "State",
          description: "Where orc keeps its state (database, checkpoints, logs), relative to this file. Default: outside the project, in $XDG_STATE_HOME/orc/projects/NAME-HASH (~/.local/state/...), where an agent cannot erase it; an existing .orc/state.db is kept. ORC_STATE_DIR overrides it.",
        },
      ),
    ),
    concurrency: Type.Optional(Concurrency),
    max_attempts: Type.Optional(MaxAttempts),
    uses: Type.Optional(Uses),
    notify: Type.Optional(Notify),
    transport: Type.Optional(Transport),
  },
  {
    $schema: JSON_SCHEMA_DRAFT,
    $id: `${SCHEMA_BASE_URL}/orchestrator.schema.json`,
    title: "orc project settings (orchestrator.yaml)",
    description: "Project-wide settings; every field has a default.",
  },
);

export type RawOrchestrator = Static<typeof OrchestratorSchema>;
