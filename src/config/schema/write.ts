/** Renders the JSON Schemas users' editors see (`schemas/*.schema.json`) from the TypeBox source, the one schema source. */
import { OrchestratorSchema } from "./orchestrator.js";
import { PipelineSchema } from "./pipeline.js";
import { RulePackSchema } from "./rule-pack.js";
import { VerdictSchema } from "./verdict.js";

export const SCHEMAS = {
  orchestrator: OrchestratorSchema,
  pipeline: PipelineSchema,
  "rule-pack": RulePackSchema,
  verdict: VerdictSchema,
} as const;

export type SchemaName = keyof typeof SCHEMAS;

/** The schema as plain JSON data (TypeBox's symbol-keyed markers dropped), as ajv and the files see it. */
export function schemaJson(name: SchemaName): Record<string, unknown> {
  return JSON.parse(JSON.stringify(SCHEMAS[name])) as Record<string, unknown>;
}

/** File name → file text for every schema, e.g. `pipeline.schema.json`. */
export function renderSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of Object.keys(SCHEMAS) as SchemaName[]) {
    files[`${name}.schema.json`] = `${JSON.stringify(schemaJson(name), null, 2)}\n`;
  }
  return files;
}
