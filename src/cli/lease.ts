import { hostname } from "node:os";
import type { Lease } from "../core/events.js";
import type { RunRow } from "../state/port.js";
import { pidAlive, startTimeOf } from "../transports/process-identity.js";

/** How often a driving process refreshes its heartbeat, and how old one may be before its lease counts as dead. */
export const HEARTBEAT_MS = 10_000;
const STALE_AFTER_MS = 6 * HEARTBEAT_MS;

/** This process, as a run's lease records it. */
export function currentLease(): Lease {
  const startTime = startTimeOf(process.pid);
  return { pid: process.pid, host: hostname(), ...(startTime === undefined ? {} : { startTime }) };
}

/** This process, as the lease `orc rollback` holds while it restores and records (see driverAlive). */
export function rollbackLease(): Lease {
  return { ...currentLease(), command: "rollback" };
}

/**
 * Whether the process that drives `run` still lives. On this host: the same pid with the same start time (a pid
 * reused after a crash or a reboot is someone else). On another host (a state directory shared over a network):
 * a recent heartbeat. Runs stored before leases existed have only a pid.
 */
export function driverAlive(run: RunRow, now = Date.now()): boolean {
  const lease = run.lease;
  // A paused run held by `orc rollback` for its duration counts as driven while that process lives.
  if (run.status !== "running" && lease?.command !== "rollback") return false;
  if (lease === undefined) return run.pid !== undefined && run.pid !== process.pid && pidAlive(run.pid);
  if (lease.pid === process.pid && lease.host === hostname()) return false;
  if (lease.host === hostname()) {
    if (lease.startTime === undefined) return pidAlive(lease.pid);
    return startTimeOf(lease.pid) === lease.startTime;
  }
  const beat = run.heartbeatAt === undefined ? Number.NaN : Date.parse(run.heartbeatAt);
  return Number.isFinite(beat) && now - beat < STALE_AFTER_MS;
}
