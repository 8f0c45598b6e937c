import type Database from "better-sqlite3";
import type { AttemptRow, LlmMemory } from "./port.js";

/** LlmMemory on state.db (tables from the `judge_verdicts` / `project_summary` migration). */
export class SqliteLlmMemory implements LlmMemory {
  private readonly getVerdict: Database.Statement<[string], { verdict: string }>;
  private readonly putVerdict: Database.Statement<[string, string, string]> | undefined;
  private readonly getSummary: Database.Statement<[], { text: string }>;
  private readonly putSummary: Database.Statement<[string, string]> | undefined;

  constructor(db: Database.Database, readonly: boolean) {
    this.getVerdict = db.prepare("SELECT verdict FROM judge_verdicts WHERE hash = ?");
    this.getSummary = db.prepare("SELECT text FROM project_summary WHERE id = 1");
    this.putVerdict = readonly ? undefined : db.prepare("INSERT OR REPLACE INTO judge_verdicts (hash, verdict, created_at) VALUES (?, ?, ?)");
    this.putSummary = readonly
      ? undefined
      : db.prepare("INSERT INTO project_summary (id, text, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at");
  }

  verdict(hash: string): string | undefined {
    return this.getVerdict.get(hash)?.verdict;
  }

  saveVerdict(hash: string, payload: string): void {
    this.putVerdict?.run(hash, payload, new Date().toISOString());
  }

  summary(): string {
    return this.getSummary.get()?.text ?? "";
  }

  saveSummary(text: string): void {
    this.putSummary?.run(text, new Date().toISOString());
  }
}

/** A task's confidence: the lowest judge confidence of its latest attempt that a judge looked at. */
export function judgedConfidence(attempts: readonly AttemptRow[]): number | undefined {
  for (let i = attempts.length - 1; i >= 0; i--) {
    const scores = (attempts[i]?.gates ?? []).flatMap((g) => (g.verdict === undefined ? [] : [g.verdict.confidence]));
    if (scores.length > 0) return Math.min(...scores);
  }
  return undefined;
}
