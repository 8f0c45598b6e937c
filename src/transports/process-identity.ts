import { readFileSync } from "node:fs";
import type { SpawnedProcess } from "../core/events.js";

/**
 * A process's start time (clock ticks since boot, field 22 of /proc/PID/stat): with the pid it names one process
 * for good, so an orphan can be stopped later without ever signalling an unrelated process that reused its pid.
 * Undefined where /proc is not available (not Linux) or the process is gone.
 */
export function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** Whether a process with this pid exists (one owned by another user counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Fields 3 on of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so count after it. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** A zombie (exited, not yet reaped by its new parent) still has a pid and start time but runs nothing. */
function isZombie(pid: number): boolean {
  return statFields(pid)?.[0] === "Z";
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
  // A zombie leader ran nothing itself, but members of its group may still run: they go too; "stopped" means the
  // leader itself was still running.
  const running = !isZombie(process_.pid);
  try {
    process.kill(-process_.pid, "SIGKILL");
    return running;
  } catch {
    return false;
  }
}
