import { spawnSync } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * Edits a finished run's state.db into the state kill -9 of orc leaves at a chosen point of its own code, for windows
 * of a few microseconds that a signal from outside cannot hit: `change` trims the ledger and sets the rows as they
 * were at that point; then the run is left running, its lease naming a process that is gone.
 */
export function leaveAsCrashed(stateDir: string, runId: string, change: (db: Database.Database) => void): void {
  const db = new Database(join(stateDir, "state.db"));
  try {
    const dead = spawnSync("true").pid;
    db.transaction(() => {
      change(db);
      const lease = JSON.parse((db.prepare("SELECT lease FROM runs WHERE id = ?").get(runId) as { lease: string }).lease) as Record<string, unknown>;
      db.prepare("UPDATE runs SET status = 'running', finished_at = NULL, reason = NULL, pid = ?, lease = ? WHERE id = ?").run(dead, JSON.stringify({ ...lease, pid: dead }), runId);
    })();
  } finally {
    db.close();
  }
}

/** The ledger ends at the first event of `type` (the last one with `last`), as if orc died right after writing it. */
export function trimLedgerAfter(db: Database.Database, runId: string, type: string, last = false): void {
  const row = db.prepare(`SELECT seq FROM events WHERE run_id = ? AND type = ? ORDER BY seq ${last ? "DESC" : "ASC"} LIMIT 1`).get(runId, type) as { seq: number } | undefined;
  if (row === undefined) throw new Error(`no ${type} event in run ${runId}`);
  db.prepare("DELETE FROM events WHERE run_id = ? AND seq > ?").run(runId, row.seq);
}
