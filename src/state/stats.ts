/**
 * The rows `orc stats` aggregates, read across every run in one read transaction. Not a hot path, but it must not
 * ship every payload to JS: the judge's confidence and a breakpoint's resolution are pulled out of their ledger rows
 * with json_extract, and only gate rows of judge gates, one per judged gate, come back.
 */
import type Database from "better-sqlite3";
import type { StatsRows } from "./port.js";

const SQL = {
  tasks: `SELECT t.run_id AS run, t.id AS task, t.status AS status,
                 (SELECT COUNT(*) FROM attempts a WHERE a.run_id = t.run_id AND a.task_id = t.id AND a.status = 'decided') AS attempts
          FROM tasks t`,
  breakpoints: `SELECT b.rule AS rule, COUNT(*) AS count FROM breakpoints b GROUP BY b.rule ORDER BY count DESC, rule`,
  // One row per judge gate that reached a verdict; the attempt's decision, whether it was rolled back, and the human's
  // resolution of a breakpoint on it say whether a judge's pass held.
  judged: `SELECT g.run_id AS run, r.created_at AS runCreatedAt, g.task_id AS task, g.attempt AS attempt, g.passed AS passed,
                  json_extract(e.payload, '$.result.verdict.confidence') AS confidence,
                  json_extract(e.payload, '$.result.verdict.verdict') AS verdict,
                  a.decision AS decision, a.rolled_back_seq IS NOT NULL AS rolledBack,
                  (SELECT json_extract(re.payload, '$.resolution') FROM breakpoints b JOIN events re ON re.seq = b.resolved_seq
                   WHERE b.run_id = g.run_id AND b.task_id = g.task_id AND b.attempt = g.attempt ORDER BY b.opened_seq DESC LIMIT 1) AS resolution
           FROM gate_results g
           JOIN events e ON e.seq = g.seq
           JOIN runs r ON r.id = g.run_id
           JOIN attempts a ON a.run_id = g.run_id AND a.task_id = g.task_id AND a.attempt = g.attempt
           WHERE json_extract(e.payload, '$.result.kind') = 'judge' AND json_extract(e.payload, '$.result.verdict.needsHuman') = 0
           ORDER BY r.created_seq, g.seq`,
  runs: `SELECT COUNT(*) AS count FROM runs`,
} as const;

export function readStats(db: Database.Database): StatsRows {
  const read = db.transaction(() => ({
    runs: (db.prepare(SQL.runs).get() as { count: number }).count,
    tasks: db.prepare(SQL.tasks).all() as StatsRows["tasks"],
    breakpoints: db.prepare(SQL.breakpoints).all() as StatsRows["breakpoints"],
    judged: (db.prepare(SQL.judged).all() as (Omit<StatsRows["judged"][number], "passed" | "rolledBack"> & { passed: number; rolledBack: number })[]).map((j) => ({
      ...j,
      passed: j.passed === 1,
      rolledBack: j.rolledBack === 1,
    })),
  }));
  return read.deferred();
}
