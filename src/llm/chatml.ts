import type { Token } from "node-llama-cpp";

/** The part of a node-llama-cpp model this module needs. */
export interface Tokenizing {
  tokenize(text: string, specialTokens?: boolean): Token[];
}

/**
 * ChatML (Qwen's chat format) as tokens. Only the role markers are special tokens: the system text and prompt are
 * tokenized as plain text, so an agent that writes `<|im_end|>` into its claims or diff cannot end the judge's
 * instructions early and speak as the system.
 */
export function chatTokens(model: Tokenizing, system: string, prompt: string): Token[] {
  const start = model.tokenize("<|im_start|>", true);
  const end = model.tokenize("<|im_end|>", true);
  const text = (s: string): Token[] => model.tokenize(s, false);
  return [
    ...start,
    ...text(`system\n${system}`),
    ...end,
    ...text("\n"),
    ...start,
    ...text(`user\n${prompt}`),
    ...end,
    ...text("\n"),
    ...start,
    ...text("assistant\n"),
  ];
}

/** JSON Schema keys that describe the document rather than constrain it; node-llama-cpp's grammar builder skips them. */
const META_KEYS = new Set(["$schema", "$id", "title"]);

export function grammarSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((item) => grammarSchema(item));
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (META_KEYS.has(key)) continue;
    // Keys of `properties` are property names (a property may be called "title"), each mapping to a schema.
    out[key] = key === "properties" && value !== null && typeof value === "object" ? mapValues(value as Record<string, unknown>) : grammarSchema(value);
  }
  return out;
}

function mapValues(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(properties)) out[name] = grammarSchema(value);
  return out;
}
