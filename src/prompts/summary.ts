import type { RunEvent } from "../core/events.js";
import type { LlmMemory } from "../state/port.js";

/** Lines kept in the running summary: the newest ones, so old history cannot crowd out the prompt budget. */
const MAX_LINES = 30;
const MAX_CLAIM_CHARS = 200;
const MAX_FILES = 8;
/**
 * A new line waits this long before it is written, so a run of quick tasks writes the summary about once a second
 * rather than once a task (each write is a commit of its own). The run flushes it when it ends; a crash loses at most
 * this much of it, and the run's events still hold everything it is made from.
 */
const SAVE_DELAY_MS = 1_000;

/**
 * "Maintaining project state": a running summary of what accepted tasks did, one line each (task, what the agent
 * said it did, files changed), kept in state.db across runs. Templates see it as `project.summary`; the judge gets it
 * in its stable prefix. It is built from the run's events, so it needs no extra work from agents or gates.
 */
export class ProjectSummary {
  private readonly pending = new Map<string, { claims: string; files: readonly string[] }>();
  /** The summary as this run last read or wrote it: every attempt's prompt asks for it, so it is read once. */
  private current: string | undefined;
  private unsaved = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly memory: LlmMemory | undefined) {}

  text(): string {
    this.current ??= this.memory?.summary() ?? "";
    return this.current;
  }

  onEvent(event: RunEvent): void {
    if (this.memory === undefined) return;
    const key = "task" in event && "attempt" in event ? `${event.task}/${String(event.attempt)}` : undefined;
    if (key === undefined) return;
    if (event.type === "agent.finished") {
      this.pending.set(key, { claims: event.result.claims, files: this.pending.get(key)?.files ?? [] });
    } else if (event.type === "changes.detected") {
      this.pending.set(key, { claims: this.pending.get(key)?.claims ?? "", files: event.files.map((f) => f.path) });
    } else if (event.type === "attempt.decided") {
      const seen = this.pending.get(key);
      this.pending.delete(key);
      if (event.decision === "accept") this.append(event.task, seen?.claims ?? "", seen?.files ?? []);
    }
  }

  private append(task: string, claims: string, files: readonly string[]): void {
    const said = claims.trim().split("\n")[0]?.slice(0, MAX_CLAIM_CHARS) ?? "";
    const shown = files.slice(0, MAX_FILES).join(", ") + (files.length > MAX_FILES ? ` (+${String(files.length - MAX_FILES)} more)` : "");
    const line = `- ${task}: ${said === "" ? "done" : said}${shown === "" ? "" : ` [files: ${shown}]`}`;
    const lines = [...this.text().split("\n").filter((l) => l !== ""), line].slice(-MAX_LINES);
    this.current = lines.join("\n");
    this.unsaved = true;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.save();
      }, SAVE_DELAY_MS);
      // The run's end saves it anyway: this timer must not keep the process alive.
      this.timer.unref();
    }
  }

  /** Writes the summary if it has lines not yet written. */
  save(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.unsaved || this.current === undefined) return;
    this.unsaved = false;
    this.memory?.saveSummary(this.current);
  }
}
