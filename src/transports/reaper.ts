import { spawn, type ChildProcess } from "node:child_process";

/**
 * The watchdog's program, run by `node -e`: it reads `+PGID START` / `-PGID` lines (groups started, with their
 * leader's start time, and ended), and when its input ends, which happens the moment orc's process is gone however it
 * died (kill -9 included), it sends SIGTERM to every group still running, then SIGKILL a second later, and exits. A
 * group whose leader's pid now names another process (a pid reused since) is left alone.
 */
const REAPER_PROGRAM = `
const fs = require("node:fs");
const groups = new Map();
const startOf = (pid) => {
  try {
    const stat = fs.readFileSync("/proc/" + pid + "/stat", "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch { return undefined; }
};
let pending = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  pending += chunk;
  for (let i = pending.indexOf("\\n"); i !== -1; i = pending.indexOf("\\n")) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    const [id, start] = line.slice(1).split(" ");
    const group = Number(id);
    if (!Number.isInteger(group) || group <= 1) continue;
    if (line[0] === "+") groups.set(group, start);
    else groups.delete(group);
  }
});
const signal = (name) => {
  for (const [g, start] of groups) {
    const now = startOf(g);
    if (now !== undefined && start !== undefined && start !== "" && now !== start) continue;
    try { process.kill(-g, name); } catch {}
  }
};
process.stdin.on("end", () => {
  signal("SIGTERM");
  setTimeout(() => { signal("SIGKILL"); process.exit(0); }, 1000);
});
`;

/**
 * Makes every process group orc starts die with orc. The supervisor starts each child as the leader of its own group
 * (so a timeout kills its whole tree), which also means nothing stops that tree when orc itself is killed: the agent
 * would go on changing the workspace behind the back of the run that `orc resume` starts. One small watchdog process
 * per orc process, in its own session, holds a pipe from orc and kills the groups orc still had when the pipe closes.
 * Groups whose members left them (setsid, daemons) are out of its reach, as they are out of the supervisor's.
 */
class GroupReaper {
  private watchdog: ChildProcess | undefined;
  private failed = false;

  /** `startTime`: the leader's /proc start time, so a pid reused later is never mistaken for the group. */
  track(group: number, startTime: string | undefined): void {
    this.send(`+${String(group)} ${startTime ?? ""}\n`);
  }

  untrack(group: number): void {
    this.send(`-${String(group)}\n`);
  }

  private send(line: string): void {
    const stdin = this.start()?.stdin;
    if (stdin === undefined || stdin === null || stdin.destroyed) return;
    stdin.write(line);
  }

  private start(): ChildProcess | undefined {
    if (this.watchdog !== undefined || this.failed) return this.watchdog;
    try {
      const watchdog = spawn(process.execPath, ["-e", REAPER_PROGRAM], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
      // Neither the watchdog nor the pipe to it may keep orc running once its own work is done.
      watchdog.unref();
      // With stdio "pipe" stdin is a net.Socket, which can be unref'd.
      const stdin = watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
      stdin?.unref?.();
      stdin?.on("error", () => {
        this.failed = true;
      });
      watchdog.on("error", () => {
        this.failed = true;
      });
      this.watchdog = watchdog;
    } catch {
      // No watchdog (no memory, no node?): processes may outlive a crashed orc, as they did before; resume still
      // stops the agent it recorded.
      this.failed = true;
    }
    return this.watchdog;
  }
}

/** The one reaper of this orc process. */
export const groupReaper = new GroupReaper();
