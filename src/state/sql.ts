/** The SQL of the state store, kept apart from the code that runs it. */
/** A run's updated_at is the time of its newest event: one step down events_run_seq. */
const RUN_COLUMNS = `r.id, r.status, r.pipeline, r.pipeline_file, r.workspace, r.created_at, r.finished_at, r.reason, r.pid,
  r.lease, r.heartbeat_at,
  (SELECT e.time FROM events e WHERE e.run_id = r.id ORDER BY e.seq DESC LIMIT 1) AS updated_at`;

/** s: the breakpoint.opened event (its start), c: breakpoint.resolved (its close). */
const BREAKPOINT_SELECT = `SELECT b.id, b.run_id, b.task_id, b.attempt, b.rule, b.status, s.payload AS opened, c.payload AS resolved
  FROM breakpoints b JOIN events s ON s.seq = b.opened_seq LEFT JOIN events c ON c.seq = b.resolved_seq`;

/**
 * The hot-path queries, exported so a test can EXPLAIN each one and prove it is an index lookup or a bounded range
 * scan (cost must never grow with the size of the ledger).
 */
export const SQL = {
  insertEvent: "INSERT INTO events (run_id, type, time, payload) VALUES (?, ?, ?, ?)",
  insertRun: `INSERT INTO runs (id, created_seq, status, pipeline, pipeline_file, workspace, created_at)
              VALUES (?, ?, 'pending', ?, ?, ?, ?)`,
  insertTask: "INSERT INTO tasks (run_id, id, ord, status, max_attempts) VALUES (?, ?, ?, 'pending', ?)",
  runExists: "SELECT 1 AS found FROM runs WHERE id = ?",
  /** Takes the lease only from the holder the caller saw (or none): a compare-and-swap, so one of two racers wins. */
  runStarted: `UPDATE runs SET status = 'running', pid = ?, lease = ?, heartbeat_at = ?, reason = NULL, finished_at = NULL
               WHERE id = ? AND (lease IS NULL OR lease = ?)`,
  heartbeat: "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND lease = ?",
  /** A lease handed from the holder the caller saw (or none) to another, status untouched: a compare-and-swap. */
  leaseSwapped: "UPDATE runs SET lease = ?, heartbeat_at = ? WHERE id = ? AND lease IS ?",
  /** A rollback: attempts started at or after a ledger position; bounded by one run's attempts. */
  attemptsRolledBack: `UPDATE attempts SET rolled_back_seq = ?
                       WHERE run_id = ? AND started_seq >= ? AND rolled_back_seq IS NULL`,
  attemptRolledBack: "UPDATE attempts SET rolled_back_seq = ? WHERE run_id = ? AND task_id = ? AND attempt = ? AND rolled_back_seq IS NULL",
  taskRolledBack: "UPDATE tasks SET status = 'pending', reason = ? WHERE run_id = ? AND id = ?",
  runInterrupted: "UPDATE runs SET status = 'paused', reason = ? WHERE id = ?",
  /** An interrupted task waits for `resume` like any task not yet started. Bounded: one run's tasks, by key. */
  tasksRequeued: "UPDATE tasks SET status = 'pending' WHERE run_id = ? AND status = 'running'",
  runFinished: "UPDATE runs SET status = ?, reason = ?, finished_at = ? WHERE id = ?",
  taskStarted: "UPDATE tasks SET status = 'running', reason = NULL WHERE run_id = ? AND id = ?",
  taskFinished: "UPDATE tasks SET status = ?, reason = ? WHERE run_id = ? AND id = ?",
  attemptStarted: `INSERT INTO attempts (run_id, task_id, attempt, status, started_at, started_seq)
                   VALUES (?, ?, ?, 'running', ?, ?)`,
  attemptAgent: "UPDATE attempts SET agent_seq = ? WHERE run_id = ? AND task_id = ? AND attempt = ?",
  attemptChanges: "UPDATE attempts SET changes_seq = ? WHERE run_id = ? AND task_id = ? AND attempt = ?",
  attemptDecided: `UPDATE attempts SET status = 'decided', decision = ?, reasons = ?, finished_at = ?
                   WHERE run_id = ? AND task_id = ? AND attempt = ?`,
  attemptInterrupted: `UPDATE attempts SET status = 'interrupted', finished_at = ?
                       WHERE run_id = ? AND task_id = ? AND attempt = ?`,
  insertGate: "INSERT INTO gate_results (seq, run_id, task_id, attempt, gate, passed) VALUES (?, ?, ?, ?, ?, ?)",
  getRun: `SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id = ?`,
  latestRun: `SELECT ${RUN_COLUMNS} FROM runs r ORDER BY r.created_seq DESC LIMIT 1`,
  listRuns: `SELECT ${RUN_COLUMNS} FROM runs r ORDER BY r.created_seq`,
  runSpec: "SELECT e.payload FROM runs r JOIN events e ON e.seq = r.created_seq WHERE r.id = ?",
  tasks: "SELECT id, status, max_attempts, reason FROM tasks WHERE run_id = ? ORDER BY ord",
  attempts: `SELECT a.task_id, a.attempt, a.status, a.started_at, a.finished_at, a.decision, a.reasons, a.rolled_back_seq,
                    s.payload AS started, g.payload AS agent, c.payload AS changes
             FROM attempts a
             JOIN events s ON s.seq = a.started_seq
             LEFT JOIN events g ON g.seq = a.agent_seq
             LEFT JOIN events c ON c.seq = a.changes_seq
             WHERE a.run_id = ? ORDER BY a.task_id, a.attempt`,
  gates: `SELECT g.task_id, g.attempt, e.payload FROM gate_results g JOIN events e ON e.seq = g.seq
          WHERE g.run_id = ? ORDER BY g.task_id, g.attempt, g.seq`,
  events: "SELECT seq, payload FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  insertBreakpoint: `INSERT INTO breakpoints (id, run_id, task_id, attempt, rule, status, opened_seq)
                     VALUES (?, ?, ?, ?, ?, 'open', ?)`,
  taskPaused: "UPDATE tasks SET status = 'paused', reason = ? WHERE run_id = ? AND id = ?",
  breakpointResolved: "UPDATE breakpoints SET status = 'resolved', resolved_seq = ? WHERE id = ? AND run_id = ? AND status = 'open'",
  runBreakpoints: `${BREAKPOINT_SELECT} WHERE b.run_id = ? ORDER BY b.opened_seq`,
  breakpoint: `${BREAKPOINT_SELECT} WHERE b.id = ?`,
  openBreakpoints: `${BREAKPOINT_SELECT} WHERE b.status = 'open' ORDER BY b.opened_seq`,
} as const;
