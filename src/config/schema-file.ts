/**
 * The JSON Schemas as orc reads them at run time: the committed `schemas/*.schema.json` (generated from the TypeBox
 * source by `npm run schemas`; a test fails when they drift). Reading the JSON instead of building the schemas from
 * TypeBox keeps TypeBox (~90 ms to load) out of every command.
 */
import { readFileSync } from "node:fs";
import type { SchemaName } from "./schema/constants.js";

/** The package's schemas/ folder: two levels up from both src/config/ and dist/config/. */
const SCHEMAS_DIR = new URL("../../schemas/", import.meta.url);

const texts = new Map<SchemaName, string>();

/** The exact text of `schemas/NAME.schema.json` (read once per process). */
export function schemaText(name: SchemaName): string {
  let text = texts.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.schema.json`, SCHEMAS_DIR), "utf8");
    texts.set(name, text);
  }
  return text;
}

/** The schema as plain JSON data, as ajv sees it. */
export function schemaData(name: SchemaName): Record<string, unknown> {
  return JSON.parse(schemaText(name)) as Record<string, unknown>;
}
