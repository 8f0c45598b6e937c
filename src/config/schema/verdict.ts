import { Type, type Static } from "@sinclair/typebox";
import { JSON_SCHEMA_DRAFT, SCHEMA_BASE_URL, Strict, StringEnum } from "./fragments.js";

import { VERDICT_LIMITS, VERDICTS } from "./verdict-limits.js";

export { VERDICT_LIMITS, VERDICTS };

/**
 * What the LLM judge answers. The grammar the model decodes under is built from this schema (so the answer is always
 * this JSON shape), and the parsed answer is validated against it again: grammars cannot enforce numeric ranges.
 * Every field is required so the grammar has one fixed order; an empty follow_up means "none".
 */
export const VerdictSchema = Strict(
  {
    verdict: StringEnum(VERDICTS, {
      title: "Verdict",
      description: "pass: the evidence supports the claims; fail: it does not; needs_human: the judge cannot tell.",
    }),
    confidence: Type.Number({ title: "Confidence", description: "How sure the judge is, from 0 to 1.", minimum: 0, maximum: 1 }),
    issues: Type.Array(Type.String({ maxLength: VERDICT_LIMITS.itemChars }), {
      title: "Issues",
      description: "Problems found, one short sentence each.",
      maxItems: VERDICT_LIMITS.items,
    }),
    contradicted_claims: Type.Array(Type.String({ maxLength: VERDICT_LIMITS.itemChars }), {
      title: "Contradicted claims",
      description: "Claims of the agent that the evidence contradicts.",
      maxItems: VERDICT_LIMITS.items,
    }),
    follow_up: Type.String({
      title: "Follow-up",
      description: "What the agent should do next, or an empty string.",
      maxLength: VERDICT_LIMITS.followUpChars,
    }),
  },
  {
    $schema: JSON_SCHEMA_DRAFT,
    $id: `${SCHEMA_BASE_URL}/verdict.schema.json`,
    title: "orc judge verdict",
    description: "The JSON answer of an LLM judge gate.",
  },
);

export type RawVerdict = Static<typeof VerdictSchema>;
