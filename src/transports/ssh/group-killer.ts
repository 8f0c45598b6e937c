/**
 * Signals remote process groups over the connection. Kills asked for in the same tick go out as one `kill` command,
 * and at most two kill channels are open at once: with every process slot held, a cancel of all of them must still
 * fit under sshd's MaxSessions (5 process channels + 1 for orc's own steps + SFTP + the remote watcher + 2 here = 10).
 */
import type { ClientChannel } from "ssh2";
import { Semaphore } from "./semaphore.js";

export type KillSignal = "TERM" | "KILL";

export class GroupKiller {
  private readonly slots = new Semaphore(2);
  private readonly pending = new Map<KillSignal, { groups: Set<number>; done: Promise<void> }>();

  constructor(private readonly open: (command: string) => Promise<ClientChannel>) {}

  /** Resolves once the kill ran (or could not: the connection is gone, and the groups with it or soon after). */
  kill(signal: KillSignal, pgid: number): Promise<void> {
    // The group id is a number the wrapper printed; checked so nothing else ever reaches the command line.
    if (!Number.isInteger(pgid) || pgid <= 1) return Promise.resolve();
    const batch = this.pending.get(signal);
    if (batch !== undefined) {
      batch.groups.add(pgid);
      return batch.done;
    }
    const groups = new Set([pgid]);
    const done = new Promise<void>((resolve) => {
      setImmediate(() => {
        this.pending.delete(signal);
        void this.send(signal, [...groups]).finally(resolve);
      });
    });
    this.pending.set(signal, { groups, done });
    return done;
  }

  private async send(signal: KillSignal, groups: readonly number[]): Promise<void> {
    await this.slots.acquire();
    try {
      const channel = await this.open(`kill -${signal} ${groups.map((g) => `-${String(g)}`).join(" ")} 2>/dev/null; true`);
      await new Promise<void>((resolve) => {
        channel.on("close", () => { resolve(); });
        channel.resume();
        channel.stderr.resume();
        channel.end();
      });
    } catch {
      // The connection went away: the caller learns it from the connection itself.
    } finally {
      this.slots.release();
    }
  }
}
