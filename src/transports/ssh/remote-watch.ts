/**
 * "Did the remote copy change since the last sync?" without a process per command: one `inotifywait -m -r` per
 * connection, on a channel held for it, over the run's remote workspace, the task copies' directory beside it and a
 * barrier directory; `.git` is left out. The barrier directory is a private one made in /dev/shm (a barrier is a file
 * created per process: on tmpfs that costs a few microseconds, on a disk's journal ten times that), else
 * `<remote workspace>.orc-sync/barrier`; it goes with the watcher. Any event in a copy makes that copy
 * dirty (a possible overflow of inotify's queue makes every copy dirty). inotify queues events in the order the changes were made, and
 * inotifywait prints them in that order, so:
 * - a process's wrapper ends by creating `barrier/p-<n>` with a shell builtin (no fork); once orc reads that line,
 *   every change the process made has been read before it: `settle()` answers whether the copy was dirty right then;
 * - a sync (push or pull) creates `barrier/c-<n>` before its `find` of the remote tree: reading that line clears the
 *   copy's flag, as everything before it is in that find; a change after it makes the copy dirty again.
 * A copy is dirty until its first such sync after the watcher started. Whatever the watcher cannot vouch for (no
 * inotifywait on the remote, a watch it could not add, its channel closed, a barrier that never came) stops it for
 * the rest of the connection: the wrappers go back to their `find` check and a process in flight gets a full pull.
 * The shell script kills inotifywait when the channel's stdin ends (the connection dropped or orc closed it).
 */
import type { ClientChannel } from "ssh2";
import type { SshConnection } from "./connection.js";
import { shq } from "./quote.js";

export interface RemoteWatchPlaces {
  /** The run's remote workspace, the directory holding the tasks' copies (absolute). */
  readonly ws: string;
  readonly tasks: string;
  /** The barrier directory where the remote has no /dev/shm (absolute). */
  readonly fallbackBarriers: string;
  /** The remote program (`inotifywait`; tests name one that does not exist to take the fallback). */
  readonly program: string;
}

/** How long a barrier may take to come back before the watcher is given up on. */
const BARRIER_TIMEOUT_MS = 5000;
/** How long setting up the watches may take (a large tree: one watch per directory). */
const START_TIMEOUT_MS = 30_000;
/** Barrier files removed in one batch (one exec per this many processes, never in a process's own path). */
const SWEEP_EVERY = 64;

function script(): string {
  return [
    'p=$1 ws=$2 t=$3 x=$4 b=$5',
    'command -v "$p" >/dev/null 2>&1 || { echo "orc-watch: no $p on the remote" >&2; exit 4; }',
    'mkdir -p "$t" || exit 3',
    // mktemp -d: a new directory of mode 700, so no other user's file or link can be in its place.
    'if [ -d /dev/shm ] && d=$(mktemp -d /dev/shm/orc-watch.XXXXXXXX 2>/dev/null); then b=$d; else rm -rf "$b" && mkdir -p "$b" || exit 3; fi',
    // cat, not read: dash's read takes a byte at a time, and /proc/sys answers each small read from its start.
    "q=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null)",
    "printf 'orc-watch-dir:%s:%s\\n' \"$q\" \"$b\" >&2",
    "exec 3<&0",
    // Whatever ends this shell (sshd hangs it up when the connection goes) takes the barrier directory along.
    'trap \'rm -rf "$b"; kill "$w" 2>/dev/null; exit 0\' HUP TERM PIPE',
    '"$p" -m -r --format \'%e %w%f\' --exclude "$x" -e modify,attrib,close_write,create,delete,move,delete_self,move_self "$ws" "$t" "$b" </dev/null &',
    "w=$!",
    // stdin ends when the channel or the connection goes: inotifywait must not outlive it.
    '(IFS= read -r _ <&3; kill "$w" 2>/dev/null) &',
    "r=$!",
    'wait "$w"; s=$?',
    'kill "$r" 2>/dev/null',
    'rm -rf "$b"',
    'echo "orc-watch: inotifywait ended ($s)" >&2',
  ].join("\n");
}

/** An extended regular expression matching `s` literally. */
function ere(s: string): string {
  return s.replace(/[\\.[\]()*+?{}|^$]/g, "\\$&");
}

interface Copy {
  dirty: boolean;
}

export class RemoteWatch {
  private alive = true;
  private rest = "";
  private marks = 0;
  /** Copies by remote path (as inotifywait prints paths: bytes, read as latin1). */
  private readonly copies = new Map<string, Copy>();
  /** Clear barriers by name → the copy they clear; process barriers by name → the copy the process ran in. */
  private readonly clears = new Map<string, string>();
  private readonly owners = new Map<string, string>();
  /** Process barriers that arrived, with the copy's state then, not yet asked for. */
  private readonly arrived = new Map<string, boolean>();
  private readonly waiting = new Map<string, (dirty: boolean | undefined) => void>();
  private clearWaiters: { readonly pending: () => boolean; readonly done: () => void }[] = [];
  private spent: string[] = [];
  /** The barrier directory, as the remote told it at the start. */
  private barriers = "";

  /** The roots as inotifywait prints them (bytes read as latin1), the barrier directory's once it is known. */
  private readonly roots: readonly string[];
  private barrierPrefix = "";
  /**
   * Overflow, inferred: inotifywait drops the kernel's overflow event without a word (a barrier lost with it times
   * out, which stops the watcher). The queue holds the remote's
   * max_queued_events at most, and what it held when it overflowed is all read afterwards, after the barrier read
   * before it (see src/watch/inotify-watcher.ts): lost events mean at least that many lines in the last two intervals
   * between barriers. From half that many, every copy counts as dirty.
   */
  private suspectFrom = 8192;
  private linesBefore = 0;
  private lines = 0;

  private constructor(
    private readonly conn: SshConnection,
    private readonly channel: ClientChannel,
    private readonly places: RemoteWatchPlaces,
  ) {
    this.roots = [latin1(places.ws), latin1(places.tasks)];
  }

  /** Starts the watcher and waits for its watches; undefined when it cannot run here (the fallback then). */
  static async start(conn: SshConnection, places: RemoteWatchPlaces): Promise<RemoteWatch | undefined> {
    const exclude = `^(${ere(places.ws)}|${ere(places.tasks)}/[^/]+)/\\.git(/|$)`;
    const args = [places.program, places.ws, places.tasks, exclude, places.fallbackBarriers].map(shq).join(" ");
    let channel: ClientChannel;
    try {
      channel = await conn.execHeld(`exec /bin/sh -c ${shq(script())} orc-watch ${args}`);
    } catch {
      return undefined;
    }
    const watch = new RemoteWatch(conn, channel, places);
    const ready = await new Promise<boolean>((resolve) => {
      let established = false;
      let err = "";
      const timer = setTimeout(() => { resolve(false); }, START_TIMEOUT_MS);
      channel.stderr.on("data", (chunk: Buffer) => {
        if (established) {
          // A watch it could not add (the watch limit), or inotifywait ended: it no longer sees everything. A new
          // directory gone before its watch was added is no loss: its creation already counted.
          const lines = chunk.toString("latin1").split("\n").filter((l) => l !== "");
          if (lines.some((l) => !l.endsWith("No such file or directory"))) watch.stop();
          return;
        }
        err += chunk.toString("latin1");
        const dir = /orc-watch-dir:(\d*):([^\n]*)\n/.exec(err);
        if (dir?.[2] !== undefined) {
          watch.suspectFrom = Math.floor((Number(dir[1]) || 16_384) / 2);
          watch.barriers = Buffer.from(dir[2], "latin1").toString("utf8");
          watch.barrierPrefix = `${dir[2]}/`;
        }
        if (err.includes("Watches established.") && watch.barriers !== "") {
          established = true;
          clearTimeout(timer);
          resolve(!/Failed|Couldn't|upper limit|orc-watch: /.test(err));
        } else if (/orc-watch: |upper limit|Failed to watch|Couldn't watch/.test(err)) {
          clearTimeout(timer);
          resolve(false);
        }
      });
      channel.on("data", (chunk: Buffer) => { watch.read(chunk); });
      channel.on("close", () => {
        clearTimeout(timer);
        watch.stop();
        resolve(false);
      });
    });
    if (!ready) {
      watch.stop();
      return undefined;
    }
    return watch;
  }

  /** Whether the watcher still vouches for every change. */
  get watching(): boolean {
    return this.alive;
  }

  /** A barrier for one process (its wrapper creates the file at exit), or undefined when the watcher is not running. */
  barrier(ws: string): { readonly name: string; readonly path: string } | undefined {
    if (!this.alive) return undefined;
    const name = `p-${String(++this.marks)}`;
    this.owners.set(name, this.track(ws));
    return { name, path: `${this.barriers}/${name}` };
  }

  /**
   * Waits for a process's barrier: whether its copy was dirty then; undefined when the watcher cannot say (it stopped,
   * or the barrier did not come in time, which stops it).
   */
  async settle(name: string): Promise<boolean | undefined> {
    const known = this.arrived.get(name);
    if (known !== undefined) {
      this.arrived.delete(name);
      return known;
    }
    if (!this.alive) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(name);
        this.stop();
        resolve(undefined);
      }, BARRIER_TIMEOUT_MS);
      this.waiting.set(name, (dirty) => {
        clearTimeout(timer);
        this.waiting.delete(name);
        resolve(dirty);
      });
    });
  }


  /**
   * A barrier for a sync of the copy at `ws`, to be created right before the sync's `find`: reading it clears the
   * copy's flag. Undefined when the watcher is not running.
   */
  clearMark(ws: string): { readonly name: string; readonly path: string } | undefined {
    if (!this.alive) return undefined;
    const name = `c-${String(++this.marks)}`;
    this.clears.set(name, this.track(ws));
    return { name, path: `${this.barriers}/${name}` };
  }

  /**
   * Resolves once the clear barriers `names` (a sync's, made before its `find`) came back, were dropped, or the
   * watcher stopped; one that does not come within 5 s stops it. A process must not start before: inotifywait adds
   * its watch on a directory the sync created when it reads that directory's creation, and the sync's barrier comes
   * after it; a write in a directory not yet watched would go unseen.
   */
  clearsIn(names: readonly string[]): Promise<void> {
    const pending = (): boolean => this.alive && names.some((name) => this.clears.has(name));
    if (!pending()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.stop(); }, BARRIER_TIMEOUT_MS);
      this.clearWaiters.push({ pending, done: () => { clearTimeout(timer); resolve(); } });
    });
  }

  /** A sync failed: the clear barriers `names` it was given may never be made, and are not waited for. */
  dropClears(names: readonly string[]): void {
    for (const name of names) this.clears.delete(name);
    this.clearsChanged();
  }

  private clearsChanged(): void {
    const still = [];
    for (const waiter of this.clearWaiters) {
      if (waiter.pending()) still.push(waiter);
      else waiter.done();
    }
    this.clearWaiters = still;
  }

  /** A process that never ran (its copy's update failed): its barrier, made all the same, is not waited for. */
  forgetBarrier(name: string): void {
    this.owners.delete(name);
    this.arrived.delete(name);
  }

  /** The copy's key, known from now on: dirty until a sync's barrier clears it. */
  private track(ws: string): string {
    const key = latin1(ws);
    if (!this.copies.has(key)) this.copies.set(key, { dirty: true });
    return key;
  }

  /** The copy at `ws` is gone (a task ended): its events no longer matter. */
  forget(ws: string): void {
    this.copies.delete(latin1(ws));
  }

  close(): void {
    this.stop();
  }

  private stop(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
    this.clearsChanged();
    this.arrived.clear();
    this.owners.clear();
    this.channel.close();
  }

  private read(chunk: Buffer): void {
    const lines = (this.rest + chunk.toString("latin1")).split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) this.event(line);
  }

  private event(line: string): void {
    if (!this.alive) return;
    this.lines++;
    const space = line.indexOf(" ");
    const kinds = space < 0 ? line : line.slice(0, space);
    const path = space < 0 ? "" : line.slice(space + 1);
    if (path === "") {
      for (const copy of this.copies.values()) copy.dirty = true; // a line orc cannot place: it could be anyone's
      return;
    }
    // A watched directory's own events name it with a trailing slash.
    if (kinds.includes("_SELF") && (this.roots.includes(path.slice(0, -1)) || path === this.barrierPrefix)) {
      this.stop(); // a watched root went: whatever takes its place is not watched
      return;
    }
    if (path.startsWith(this.barrierPrefix)) {
      if (kinds.startsWith("CREATE")) this.barrierArrived(path.slice(this.barrierPrefix.length));
      return;
    }
    for (const [root, copy] of this.copies) {
      if (path === root || path.startsWith(`${root}/`)) copy.dirty = true;
    }
  }

  private barrierArrived(name: string): void {
    // A possible overflow: every copy is dirty, and the watcher stops after this barrier (the directories whose
    // creation was lost have no watch, so later changes in them would go unseen).
    const overflow = this.linesBefore + this.lines >= this.suspectFrom;
    if (overflow) for (const copy of this.copies.values()) copy.dirty = true;
    this.handleBarrier(name);
    if (overflow) this.stop();
  }

  private handleBarrier(name: string): void {
    this.linesBefore = this.lines;
    this.lines = 0;
    this.spent.push(name);
    if (this.spent.length >= SWEEP_EVERY) this.sweep();
    const cleared = this.clears.get(name);
    if (cleared !== undefined) {
      this.clears.delete(name);
      const copy = this.copies.get(cleared);
      if (copy !== undefined) copy.dirty = false;
      this.clearsChanged();
      return;
    }
    // A process's barrier: its copy's state now, which counts every change the process made.
    const owner = this.owners.get(name);
    this.owners.delete(name);
    const dirty = owner === undefined ? true : (this.copies.get(owner)?.dirty ?? true);
    const resolve = this.waiting.get(name);
    this.waiting.delete(name);
    if (resolve !== undefined) resolve(dirty);
    else if (owner !== undefined && this.arrived.size < 1024) this.arrived.set(name, dirty); // a name orc gave out and waits for
  }

  /** Removes the barrier files read so far, in one exec not awaited (orc's own names: no quoting concerns, quoted anyway). */
  private sweep(): void {
    const names = this.spent;
    this.spent = [];
    void this.conn.capture(`cd ${shq(this.barriers)} && rm -f -- ${names.map(shq).join(" ")}`).catch(() => undefined);
  }
}

function latin1(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}
