/**
 * Keeps the remote workspace in step with the host's, which stays the truth (orc's checkpoints, rollback and change
 * sets all work on the host):
 * - push, before each process: when the host watch (host-watch.ts) saw a change since the last sync, or there is none,
 *   the host tree is walked and compared with what was last synced; only what changed is sent (a tar stream into
 *   `tar -x` on the remote, deletions as a NUL-separated list into `xargs -0 rm -rf`). Nothing changed: nothing
 *   crosses the network. The first push of an orc process replaces the remote directory's contents
 *   with a full copy, the user's `.git` included (a copy: the remote may read history; what it does to it stays there).
 * - pull, after a process that changed the remote (the remote watcher, remote-watch.ts, saw an event; without it, the
 *   wrapper's `find` check): the remote manifest is diffed with the last synced one and the changed files are read
 *   back over SFTP into the host workspace (host-apply.ts refuses paths that escape it); remote deletions are deleted
 *   on the host.
 * A sync that runs a `find` of the remote tree first creates the remote watcher's clear barrier (`mark`), if it runs:
 * the watcher counts the copy clean from there.
 * Paths cross as data (tar members, NUL-separated lists, SFTP paths), never as shell words.
 */
import { spawn } from "node:child_process";
import { lstatSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { SFTPWrapper } from "ssh2";
import { exitOf, type SshConnection } from "./connection.js";
import { hostTarget, putDir, putFile, putLink, UnsafePathError } from "./host-apply.js";
import { diffManifests, parseRemote, REMOTE_FIND, walkHost, type Manifest } from "./manifest.js";
import { shq } from "./quote.js";
import { wrapperPattern } from "./wrapper.js";
import { Semaphore } from "./semaphore.js";
import { HostWatch } from "./host-watch.js";

/** The remote path of a clear barrier to create before a `find` of the remote tree; undefined: none (remote-watch.ts). */
export type ClearMark = () => string | undefined;

export interface SyncPaths {
  readonly hostWs: string;
  /** Absolute remote paths: the workspace, and orc's directory beside it (manifests, prompt files). */
  readonly remoteWs: string;
  readonly meta: string;
  /** Host paths, relative to the workspace, never synced either way (`.git` is copied once, orc's state never). */
  readonly skip: ReadonlySet<string>;
  /**
   * Links made on the remote in place of host entries (named in `skip`): a task's directory links the run's ignored
   * entries (node_modules/) by their host path, which means nothing on the remote; its copy links the run's remote copy.
   */
  readonly links?: readonly { readonly name: string; readonly target: string }[];
}

export interface PullReport {
  readonly changed: number;
  readonly deleted: number;
  /** Paths the remote changed that orc refused to write on the host. */
  readonly refused: readonly string[];
  /** The remote's `.git` changed since the last sync too (checked when the pull wrote the manifest itself). */
  readonly gitChanged: boolean;
}

export class WorkspaceSync {
  private readonly lock = new Semaphore(1);
  private initialised = false;
  /** The host tree as last synced (host stamps), and the remote tree as last synced (remote stamps). */
  private host: Manifest = new Map();
  private remote: Manifest = new Map();
  /** Watches the host directory from the first push on; undefined: none (yet, or it could not start): walk. */
  private hostWatch: HostWatch | undefined;
  /** Counters for SyncStats (transport.ts). */
  pulls = 0;
  hostWalks = 0;

  constructor(private readonly paths: SyncPaths) {}

  /**
   * Forgets the remote copy: the next push copies the host over it whole. After a lost process the remote holds work
   * of an attempt the run loop puts back on the host; pulling it would bring that work back into the rerun.
   */
  discard(): void {
    this.initialised = false;
  }

  /** Brings the remote up to date with the host; the first call of this orc process copies everything. */
  async push(conn: SshConnection, mark?: ClearMark): Promise<void> {
    await this.exclusive(async () => {
      if (!this.initialised) {
        await this.copyAll(conn, mark);
        this.initialised = true;
        return;
      }
      if (this.hostWatch !== undefined && !(await this.hostWatch.changed())) return;
      this.hostWalks++;
      const now = walkHost(this.paths.hostWs, this.paths.skip);
      const { changed, deleted } = diffManifests(this.host, now);
      if (changed.length === 0 && deleted.length === 0) return;
      try {
        if (deleted.length > 0) await this.removeRemote(conn, deleted);
        await this.send(conn, changed, mark);
      } catch (error) {
        this.hostWatch?.requeue(); // the watcher has handed these changes over: the next push must walk again
        throw error;
      }
      this.host = now;
    });
  }

  /** Waits for a sync in progress: a process that changed nothing itself may have its changes in that one's pull. */
  async settled(): Promise<void> {
    await this.exclusive(() => Promise.resolve());
  }

  /** The first push copied everything: later ones send changes only. */
  get synced(): boolean {
    return this.initialised;
  }

  get hostWatched(): boolean {
    return this.hostWatch !== undefined;
  }

  async close(): Promise<void> {
    await this.hostWatch?.close();
    this.hostWatch = undefined;
  }

  /**
   * Brings the remote's changes back. `fresh`: the wrapper already wrote `manifest.new` (it saw a change); otherwise
   * (the process was killed, the connection dropped) it is written here first.
   */
  async pull(conn: SshConnection, fresh: boolean, mark?: ClearMark): Promise<PullReport> {
    return this.exclusive(async () => {
      if (!this.initialised) return { changed: 0, deleted: 0, refused: [], gitChanged: false };
      this.pulls++;
      const { meta, remoteWs } = this.paths;
      const next = shq(`${meta}/manifest.new`);
      const synced = shq(`${meta}/manifest`);
      let gitChanged = false;
      if (!fresh) {
        const found = await conn.capture(
          `cd ${shq(remoteWs)} && { ${markFirst(mark)}${REMOTE_FIND} > ${next}; } && touch -d '1 second ago' ${next} && ` +
            `{ if [ -d .git ] && [ -f ${synced} ]; then find .git -cnewer ${synced} -print -quit 2>/dev/null; fi; true; }`,
        );
        if (found.code !== 0) throw new Error(found.stderr.trim() || `ssh: listing the remote workspace failed (exit ${String(found.code)})`);
        gitChanged = found.stdout.length > 0;
      }
      const sftp = await conn.sftp();
      const now = parseRemote((await sftpRead(sftp, `${meta}/manifest.new`)).toString("utf8"));
      const { changed, deleted } = diffManifests(this.remote, now);
      const refused: string[] = [];
      const touched: string[] = [];
      for (const rel of deleted) this.apply(rel, refused, touched, (path) => { rmSync(path, { recursive: true, force: true }); }, false);
      const vanished: string[] = [];
      await forEachLimited(changed, 16, async (rel) => {
        const entry = now.get(rel);
        if (entry === undefined) return;
        const mode = Number.parseInt(entry.stamp.split(" ")[0] ?? "644", 8);
        try {
          if (entry.type === "d") this.apply(rel, refused, touched, (path) => { putDir(path, mode); });
          else if (entry.type === "l") {
            const target = await sftpReadlink(sftp, `${remoteWs}/${rel}`);
            this.apply(rel, refused, touched, (path) => { putLink(path, target); });
          } else {
            const content = await sftpRead(sftp, `${remoteWs}/${rel}`);
            this.apply(rel, refused, touched, (path) => { putFile(path, content, mode); });
          }
        } catch (error) {
          // Gone since the manifest was written (another process at work): left out, so a later pull sees it anew.
          if ((error as { code?: unknown }).code !== 2 || conn.lost !== undefined) throw error;
          vanished.push(rel);
        }
      });
      for (const rel of vanished) now.delete(rel);
      await sftpRename(sftp, `${meta}/manifest.new`, `${meta}/manifest`);
      this.remote = now;
      this.rememberHost(touched);
      await this.hostWatch?.ownWrites(touched);
      return { changed: changed.length, deleted: deleted.length, refused, gitChanged };
    });
  }

  private apply(rel: string, refused: string[], touched: string[], write: (path: string) => void, create = true): void {
    try {
      const path = hostTarget(this.paths.hostWs, rel, this.paths.skip, create);
      if (path !== undefined) write(path);
      touched.push(rel);
    } catch (error) {
      if (!(error instanceof UnsafePathError)) throw error;
      refused.push(rel);
    }
  }

  /** The host entries a pull wrote, as they are now: the next push must not send them back. */
  private rememberHost(touched: readonly string[]): void {
    for (const rel of touched) {
      let st;
      try {
        st = lstatSync(join(this.paths.hostWs, rel));
      } catch {
        for (const key of [...this.host.keys()]) if (key === rel || key.startsWith(`${rel}/`)) this.host.delete(key);
        continue;
      }
      const type = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "f";
      this.host.set(rel, { type, stamp: type === "d" ? String(st.mode) : `${String(st.mode)} ${String(st.size)} ${String(st.mtimeMs)}` });
    }
  }

  /** The remote directory emptied (refused if it holds something orc did not put there), then the whole host tree. */
  private async copyAll(conn: SshConnection, mark: ClearMark | undefined): Promise<void> {
    const { remoteWs, meta } = this.paths;
    const ws = shq(remoteWs);
    const owner = shq(`${meta}/owner`);
    // An orc that died (kill -9, a crash) left its remote processes running in this workspace: their wrappers name
    // its sync folder on their command line (wrapper.ts).
    const pattern = shq(wrapperPattern(meta));
    await mustSucceed(conn, `if command -v pgrep >/dev/null; then for p in $(pgrep -u "$(id -u)" -f ${pattern}); do kill -KILL -"$p" 2>/dev/null; done; fi; true`);
    const prepare = [
      `if [ -e ${ws} ] && [ ! -f ${owner} ] && [ -n "$(ls -A ${ws} 2>/dev/null)" ]; then echo "orc: the remote directory ${remoteWs.replace(/[^\w./~-]/g, "?")} is not empty and not orc's; choose another transport.workspace" >&2; exit 3; fi`,
      `rm -rf ${ws} && mkdir -p ${ws} ${shq(meta)} && : > ${owner} && rm -f ${shq(`${meta}/manifest`)} ${shq(`${meta}/manifest.new`)}`,
      ...(this.paths.links ?? []).map((link) => `ln -s ${shq(link.target)} ${shq(`${remoteWs}/${link.name}`)}`),
    ].join("\n");
    await mustSucceed(conn, prepare);
    // Watching before walking: a change during the walk is seen by the next push. Events before now do not matter.
    if (this.hostWatch === undefined) this.hostWatch = await HostWatch.start(this.paths.hostWs, this.paths.skip);
    else await this.hostWatch.changed();
    const all = walkHost(this.paths.hostWs, new Set([...this.paths.skip].filter((p) => p !== ".git")));
    await this.send(conn, [...all.keys()].sort(), mark);
    this.host = walkHost(this.paths.hostWs, this.paths.skip);
  }

  private async removeRemote(conn: SshConnection, deleted: readonly string[]): Promise<void> {
    const list = Buffer.from(deleted.map((p) => `./${p}\0`).join(""));
    await mustSucceed(conn, `cd ${shq(this.paths.remoteWs)} && xargs -0 -r rm -rf --`, list);
  }

  /** Streams the listed host paths as a tar archive into `tar -x` on the remote, then records the remote manifest. */
  private async send(conn: SshConnection, paths: readonly string[], mark: ClearMark | undefined): Promise<void> {
    const { remoteWs, meta } = this.paths;
    const manifest = shq(`${meta}/manifest`);
    const extract = paths.length === 0 ? "" : `tar -x -o -f - -C ${shq(remoteWs)} && `;
    // The manifest's mtime a second back: the wrapper's `find -cnewer` must see a change made in the same clock tick.
    const channel = await conn.execStep(`${extract}cd ${shq(remoteWs)} && { ${markFirst(mark)}${REMOTE_FIND} > ${manifest}; } && touch -d '1 second ago' ${manifest} && cat ${manifest}`);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const done = new Promise<number | null>((resolve, reject) => {
      const stop = conn.onLost((reason) => { reject(new Error(reason)); });
      channel.on("data", (chunk: Buffer) => out.push(chunk));
      channel.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      channel.on("close", () => { stop(); resolve(exitOf(channel).code); });
    });
    if (paths.length === 0) channel.end();
    else {
      const tar = spawn("tar", ["-c", "-f", "-", "--null", "--no-recursion", "--verbatim-files-from", "-C", this.paths.hostWs, "-T", "-"], { stdio: ["pipe", "pipe", "pipe"] });
      tar.stdin.end(Buffer.from(paths.map((p) => `./${p}\0`).join("")));
      tar.stdout.pipe(channel);
      tar.stderr.resume();
    }
    const code = await done;
    if (code !== 0) throw new Error(`ssh: updating the remote workspace failed: ${Buffer.concat(err).toString("utf8").trim() || `exit ${String(code)}`}`);
    this.remote = parseRemote(Buffer.concat(out).toString("utf8"));
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.lock.acquire();
    try {
      return await fn();
    } finally {
      this.lock.release();
    }
  }
}

/**
 * The clear barrier's creation, ahead of a `find`: with `true` (a builtin), and whatever happens to it the `find`
 * runs (a barrier that is never made only leaves the copy counted dirty).
 */
function markFirst(mark: ClearMark | undefined): string {
  const path = mark?.();
  return path === undefined ? "" : `true 2>/dev/null >${shq(path)}; `;
}

async function mustSucceed(conn: SshConnection, command: string, stdin?: Buffer): Promise<void> {
  const result = await conn.capture(command, stdin);
  if (result.code !== 0) throw new Error(result.stderr.trim() || `ssh: a remote step failed (${result.signal === undefined ? `exit ${String(result.code)}` : `signal ${result.signal}`})`);
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sftpRead(sftp: SFTPWrapper, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sftp.readFile(path, (error: Error | undefined, data: Buffer) => { if (error) reject(error); else resolve(data); });
  });
}

function sftpReadlink(sftp: SFTPWrapper, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    sftp.readlink(path, (error, target) => { if (error) reject(error); else resolve(target); });
  });
}

function sftpRename(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.ext_openssh_rename(from, to, (error) => { if (error) reject(error); else resolve(); });
  });
}
