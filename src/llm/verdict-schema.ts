import { readFileSync } from "node:fs";

/** The package's schemas/ folder: two levels up from both src/llm/ and dist/llm/. */
const FILE = new URL("../../schemas/verdict.schema.json", import.meta.url);

let schema: Readonly<Record<string, unknown>> | undefined;

/**
 * schemas/verdict.schema.json (generated from src/config/schema/verdict.ts): the judge's grammar and structured-output
 * format are built from it. Read once per process; TypeBox is never loaded at run time.
 */
export function verdictSchema(): Readonly<Record<string, unknown>> {
  schema ??= JSON.parse(readFileSync(FILE, "utf8")) as Record<string, unknown>;
  return schema;
}
