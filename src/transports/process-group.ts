import { spawn, type ChildProcess } from "node:child_process";
import type { ProcessSpec } from "./port.js";

/**
 * Starts the child as the leader of its own process group (and session), so one kill(-pid) reaches every descendant
 * that did not escape. A synchronous failure (e.g. a NUL byte in an argument) comes back as a value, never a throw.
 */
export function spawnGroupLeader(spec: ProcessSpec): { readonly child: ChildProcess } | { readonly error: string } {
  const file = spec.shell === true ? "/bin/sh" : spec.command;
  // With a shell, extra args become the script's positional parameters ($1, $2, …).
  const args = spec.shell === true ? ["-c", spec.command, "sh", ...(spec.args ?? [])] : [...(spec.args ?? [])];
  try {
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    return { child };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Signals a process group; the group may already be gone (ESRCH) or hold a process we may not signal (EPERM). */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Nothing left to kill, or nothing we may kill: either way there is nothing more to do.
  }
}
