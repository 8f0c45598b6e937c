import { spawn, type ChildProcess } from "node:child_process";

/**
 * The watchdog's program, run by `/bin/sh` (a shell starts in a millisecond; a second node would cost every run ~40 ms
 * of CPU): it reads `+PGID START` / `-PGID` lines (groups started, with their leader's start time, and ended), and
 * when its input ends, which happens the moment orc's process is gone however it died (kill -9 included), it sends
 * SIGTERM to every group still running, then SIGKILL a second later, and exits. A group whose leader's pid now names
 * another process (a pid reused since: field 22 of /proc/PID/stat differs) is left alone.
 */
const REAPER_PROGRAM = `
set -f
live=""
while read -r op start; do
  case "$op" in
    +*) live="$live \${op#+}:$start" ;;
    -*) g=\${op#-}; kept=""; for e in $live; do [ "\${e%%:*}" = "$g" ] || kept="$kept $e"; done; live=$kept ;;
  esac
done
signal() {
  for e in $live; do
    g=\${e%%:*}; s=\${e#*:}
    case "$g" in ""|*[!0-9]*|0|1) continue ;; esac
    if [ -n "$s" ] && [ -r "/proc/$g/stat" ]; then
      now=$(sed 's/.*) //' "/proc/$g/stat" | cut -d' ' -f20)
      [ "$now" = "$s" ] || continue
    fi
    kill -"$1" -"$g" 2>/dev/null
  done
}
signal TERM
sleep 1
signal KILL
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
      const watchdog = spawn("/bin/sh", ["-c", REAPER_PROGRAM], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
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
      // No watchdog (no memory, no /bin/sh?): processes may outlive a crashed orc, as they did before; resume still
      // stops the agent it recorded.
      this.failed = true;
    }
    return this.watchdog;
  }
}

/** The one reaper of this orc process. */
export const groupReaper = new GroupReaper();
