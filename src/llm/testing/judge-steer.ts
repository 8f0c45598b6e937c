/**
 * Steering tables for the tiny GGUF (see tiny-gguf.ts) that make grammar-constrained greedy decoding of a verdict
 * (schemas/verdict.schema.json) come out as a chosen, fixed JSON document, e.g.
 * `{"verdict":"fail","confidence":0.1,"issues":["faulty code"],"contradicted_claims":["faulty code"],"follow_up":"faulty code"}`.
 */
export interface JudgeSteer {
  readonly verdict: "pass" | "fail" | "needs_human";
  /** The number as written, digits distinct except for the integer part: "0.9", "0.1", "9". */
  readonly confidence: string;
  /** Text of every string the model is free to write; must start with the verdict's first letter, letters distinct. */
  readonly phrase?: string;
  /** False: empty `issues` and `contradicted_claims`. */
  readonly items?: boolean;
  /** True: strings never end, so the answer runs into maxTokens (a malformed verdict). */
  readonly endless?: boolean;
}

const PHRASES = { pass: "proven claims", fail: "faulty code", needs_human: "no claim" } as const;

export function judgeSteer(spec: JudgeSteer): Record<string, string> {
  const phrase = spec.phrase ?? PHRASES[spec.verdict];
  const first = spec.verdict[0] ?? "f";
  if (!phrase.startsWith(first)) throw new Error(`judge-steer: phrase must start with "${first}"`);
  const steer: Record<string, string> = {};
  const chain = (text: string, end: string): void => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] ?? "";
      const next = i + 1 < text.length ? (text[i + 1] ?? "") : end;
      if (steer[ch] !== undefined && steer[ch] !== next) throw new Error(`judge-steer: "${ch}" would need two successors`);
      steer[ch] = next;
    }
  };
  chain(phrase, spec.endless === true ? first : '"');
  // After an opening quote: the phrase (or verdict); after a closing one: end the array / object.
  steer['"'] = `${first}]}`;
  steer["["] = spec.items === false ? "]" : '"';
  steer[":"] = spec.confidence[0] ?? "0";
  chain(spec.confidence, ",");
  return steer;
}

/**
 * A judge whose verdict depends on its prompt (tiny-gguf.ts `flag`): it answers
 * `{"verdict":"pass","confidence":0.9,"issues":[],"contradicted_claims":[],"follow_up":"proven"}` unless `marker`
 * appears in the prompt, and then `{"verdict":"fail","confidence":0.1,…,"follow_up":"faulty"}`. Both answers share one
 * bigram table; the marker's flag promotes `f` over `p` after a quote and `1` over `9` after the decimal point.
 */
export function evidenceJudge(marker: string): { steer: Record<string, string>; flag: { marker: string; boost: string } } {
  const steer: Record<string, string> = { '"': "pf]}", "[": "]", ":": "0", "0": ".", ".": "91", "9": ",", "1": "," };
  for (const phrase of ["proven", "faulty"]) {
    for (let i = 0; i < phrase.length; i++) steer[phrase[i] ?? ""] = phrase[i + 1] ?? '"';
  }
  if (steer[marker] !== undefined) throw new Error(`judge-steer: the marker "${marker}" is a character the judge writes`);
  return { steer, flag: { marker, boost: "f1" } };
}
