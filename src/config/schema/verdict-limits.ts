/**
 * Values of the verdict schema (verdict.ts) that the judge also needs at run time, apart from TypeBox so that
 * importing them does not load it; the judge reads the generated schemas/verdict.schema.json (llm/verdict-schema.ts).
 */
export const VERDICTS = ["pass", "fail", "needs_human"] as const;
export const VERDICT_LIMITS = { items: 8, itemChars: 300, followUpChars: 2_000 } as const;
