import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
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

/**
 * Signals every process of a group but its leader. A bubblewrap leader dies at once on SIGTERM, and the sandboxed
 * tree dies with it (SIGKILL): the tree would never get the grace to finish (an agent writing its session). The
 * sandbox's own init ignores SIGTERM from outside its namespace, so the command's exit is what ends the sandbox.
 */
export function killGroupButLeader(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    killGroup(pid, signal);
    return;
  }
  for (const entry of entries) {
    const member = Number(entry);
    if (!Number.isInteger(member) || member === pid) continue;
    try {
      // Field 5 of /proc/PID/stat, after the parenthesised command name (which may itself hold spaces or parentheses).
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp === pid) process.kill(member, signal);
    } catch {
      // Gone meanwhile, or not ours to signal.
    }
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
