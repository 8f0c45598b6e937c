/**
 * Plain values the schemas are built from that orc also needs at run time. They live apart from the TypeBox modules so
 * that importing them does not load TypeBox (~90 ms): at run time orc reads the generated `schemas/*.schema.json`
 * instead (schema-file.ts). fragments.ts re-exports them.
 */

export const SCHEMA_BASE_URL = "https://orc.dev/schemas";
export const JSON_SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#";

/** The schema files orc writes (`schemas/NAME.schema.json`) and checks its YAML against. */
export const SCHEMA_NAMES = ["orchestrator", "pipeline", "rule-pack"] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export const ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
export const ID_RULE = 'letters, digits, ".", "_" and "-", starting with a letter or digit';

/** Human wording of each `pattern` the schemas use, so a shape error explains the pattern instead of printing a regex. */
export const PATTERN_HINTS: Readonly<Record<string, string>> = { [ID_PATTERN]: `must use ${ID_RULE}` };

export const BREAKPOINT_ACTIONS = ["pause", "reject", "fail", "warn"] as const;
export const REPORT_FORMATS = ["junit", "tap"] as const;

/** The file format version this orc reads. */
export const FORMAT_VERSION = 1;
