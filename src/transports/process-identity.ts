import { readFileSync } from "node:fs";
import type { SpawnedProcess } from "../core/events.js";

/**
 * A process's start time (clock ticks since boot, field 22 of /proc/PID/stat): with the pid it names one process
 * for good, so an orphan can be stopped later without ever signalling an unrelated process that reused its pid.
 * Undefined where /proc is not available (not Linux) or the process is gone.
 */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

export function identify(pid: number): SpawnedProcess {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

/**
 * SIGKILLs the process group led by `process` if that very process still exists (same pid AND start time). Without a
 * recorded start time nothing is killed: a pid alone may belong to someone else by now.
 */
export function killGroupIfSame(process_: SpawnedProcess): boolean {
  if (process_.startTime === undefined || startTimeOf(process_.pid) !== process_.startTime) return false;
  try {
    process.kill(-process_.pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
