/**
 * The `ssh` transport: every process runs on a remote machine, in a copy of the workspace there (sync.ts keeps it
 * in step; the host workspace stays the truth). One connection is held for the run and reopened, with backoff, when
 * it drops; a process it dropped under ends `transport-lost`, which the run loop answers by running the attempt again.
 * Tasks side by side work in directories of their own (ProcessSpec.workspace): each gets a remote copy of its own
 * beside the run's (`<remote workspace>.tasks/<name>-<hash>`), synced the same way. Whether a process changed its
 * copy is told by a watcher held on the connection (remote-watch.ts) where the remote has inotifywait, else by the
 * wrapper's `find` check.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { basename, isAbsolute, join, relative } from "node:path";
import type { ProcessOutcome, ProcessSpec, Transport } from "../port.js";
import { FatalSshError, SshConnection, type SshTarget } from "./connection.js";
import { ProcessChannels } from "./process-channels.js";
import { runRemote } from "./remote-process.js";
import { RECONNECT, retry } from "./retry.js";
import { RemoteWatch } from "./remote-watch.js";
import { WorkspaceSync, type ClearMark } from "./sync.js";
import { POSIX_SHELLS } from "./wrapper.js";
import { PromptFiles } from "./prompt-files.js";
import { shq } from "./quote.js";

export interface SshOptions {
  readonly target: SshTarget;
  readonly hostWorkspace: string;
  /** As configured (`~/…` or absolute); undefined: `~/.orc/workspaces/<project>-<hash>`. */
  readonly remoteWorkspace?: string;
  /** Host paths relative to the workspace that are never synced (orc's state when inside the workspace). */
  readonly skip: readonly string[];
  /** Where the run's prompt files are written on the host: copied to the remote when an env value names one. */
  readonly promptDir: string;
  /** The remote watcher program (default `inotifywait`); tests name a missing one to take the `find` fallback. */
  readonly remoteWatcher?: string;
}

/** What the sync of one remote copy did so far (tests and the bench look; nothing in a run depends on it). */
export interface SyncStats {
  readonly pulls: number;
  readonly hostWalks: number;
  readonly hostWatched: boolean;
  /** The connection's remote watcher vouches for changes now. */
  readonly remoteWatched: boolean;
}

/** The default remote workspace: one per host workspace, so two projects never share one. */
export function defaultRemoteWorkspace(hostWorkspace: string, host: string): string {
  const hash = createHash("sha256").update(`${host}\0${hostWorkspace}`).digest("hex").slice(0, 12);
  const name = basename(hostWorkspace).replace(/[^A-Za-z0-9._-]/g, "_") || "workspace";
  return `~/.orc/workspaces/${name}-${hash}`;
}

/** Variables the remote's own login sets: the host's values would be wrong there. */
const REMOTE_OWNED = new Set(["PATH", "HOME", "USER", "LOGNAME", "SHELL", "MAIL", "PWD", "OLDPWD", "SSH_AUTH_SOCK", "TMPDIR"]);

export class SshTransport implements Transport {
  readonly kind = "ssh";
  private conn: SshConnection | undefined;
  private connecting: Promise<SshConnection> | undefined;
  /** A refused host key or credentials: every later run() fails the same way at once. */
  private fatal: string | undefined;
  /** Found once per orc process: the run's remote workspace (`~` resolved) and whether the login shell is POSIX. */
  private remote: { readonly ws: string; readonly direct: boolean } | undefined;
  /** A remote copy for each host directory processes work in (the run's workspace; a task's own directory). */
  private readonly mirrors = new Map<string, Mirror>();
  private warnedGit = false;
  /** Remote process groups a lost connection left running: killed as soon as orc is connected again. */
  private stranded: number[] = [];
  /** The remote watcher of the connection `watchConn`, started once per connection after the run's copy is there. */
  private watch: RemoteWatch | undefined;
  private watchConn: SshConnection | undefined;
  private watchStarting: Promise<void> | undefined;
  /** The channels each remote copy's processes run in, by host directory (process-channels.ts). */
  private readonly processChannels = new Map<string, ProcessChannels>();

  constructor(private readonly options: SshOptions) {}

  private get where(): string {
    return `${this.options.target.user}@${this.options.target.host}:${String(this.options.target.port)}`;
  }

  async run(spec: ProcessSpec): Promise<ProcessOutcome> {
    const outcome = await this.runProcess(spec);
    // The run's own copy's next process gets its channel opened now (process-channels.ts); with every slot in use, none.
    if ((spec.workspace ?? this.options.hostWorkspace) === this.options.hostWorkspace) this.processChannels.get(this.options.hostWorkspace)?.openAhead();
    return outcome;
  }

  private async runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
    const started = performance.now();
    const failed = (end: "spawn-error" | "transport-lost" | "cancelled", error?: string): ProcessOutcome => ({
      exitCode: null, signal: null, end, durationMs: Math.round(performance.now() - started), pid: undefined, stdoutTail: "", stderrTail: "", outputTail: "", droppedBytes: 0,
      ...(error === undefined ? {} : { error }),
    });
    if (spec.signal?.aborted === true) return failed("cancelled");
    let conn: SshConnection;
    try {
      conn = await this.connection(spec.signal);
    } catch (error) {
      return failed("spawn-error", (error as Error).message);
    }
    if (this.remote === undefined) return failed("spawn-error", "ssh: the remote workspace is not set up");
    const main = this.mirrorFor(this.options.hostWorkspace, this.remote);
    const remote = this.mirrorFor(spec.workspace ?? this.options.hostWorkspace, this.remote);
    /** The clear barriers this process's syncs were given (remote-watch.ts). */
    const clears: string[] = [];
    /** The remote copy brought up to date and the environment mapped; or why not, as this run's outcome. */
    const prepare = async (): Promise<{ env: Record<string, string> } | { failure: ProcessOutcome }> => {
      try {
        if (this.stranded.length > 0) await this.killStranded(conn);
        // A task's copy links the run's copy for the ignored entries (node_modules/): that one must be there and current.
        if (remote !== main) await main.sync.push(conn, this.clearMark(main, clears));
        if (remote.unsettled) await remote.sync.pull(conn, false, this.clearMark(remote, clears));
        remote.unsettled = false;
        await remote.sync.push(conn, this.clearMark(remote, clears));
        return { env: await this.remoteEnv(conn, spec.env, remote) };
      } catch (error) {
        if (conn.lost !== undefined) return { failure: failed("transport-lost", `the SSH connection to ${this.where} was lost while updating the remote workspace (${conn.lost})`) };
        const message = (error as Error).message;
        return { failure: failed("spawn-error", message.startsWith("ssh: ") ? message : `ssh: ${message}`) };
      }
    };
    /** Prepared, and the sync's directories watched before anything runs in them (remote-watch.ts). */
    const prepareWatched = async (): Promise<{ env: Record<string, string> } | { failure: ProcessOutcome }> => {
      const prepared = await prepare();
      if ("failure" in prepared) {
        this.watch?.dropClears(clears);
        return prepared;
      }
      await this.watch?.clearsIn(clears);
      return prepared;
    };
    // A copy synced before, on a connection whose watcher started: the process's channel opens (and its shell starts)
    // while the copy is brought up to date; the wrapper waits for its environment, sent only once it is (a failure
    // sends none, and the wrapper exits without running anything). The updates have a channel slot of their own
    // (connection.ts), so processes waiting for theirs never hold the one they need. Otherwise one after the other: a
    // first copy kills what an orc that died left running in the copy, and the watcher starts after the first copy.
    const early = this.watchConn === conn && remote.sync.synced && main.sync.synced && !remote.unsettled && this.stranded.length === 0;
    let ready: Promise<{ env: Record<string, string> } | { failure: ProcessOutcome }>;
    if (early) ready = prepareWatched();
    else {
      const prepared = await prepareWatched();
      if ("failure" in prepared) return prepared.failure;
      ready = Promise.resolve(prepared);
    }
    const watch = await this.watchOn(conn, this.remote.ws);
    const barrier = watch?.barrier(remote.ws);
    const { outcome, end, pgid } = await runRemote(this.channelsOn(conn, remote, this.remote.direct), {
      spec, cwd: remotePath(remote, spec.cwd), workspace: remote.ws, meta: remote.meta, where: this.where,
      env: ready.then((p) => ("env" in p ? p.env : undefined)),
      ...(barrier === undefined ? {} : { barrier: barrier.path }),
    });
    // A process that never made its barrier (its copy could not be updated, it was stopped before it ran, killed):
    // no one will wait for that barrier.
    if (barrier !== undefined && end?.watched !== true) watch?.forgetBarrier(barrier.name);
    const prepared = await ready;
    if ("failure" in prepared) return prepared.failure;
    if (outcome.end === "transport-lost") {
      // What the lost process left on the remote belongs to an attempt the run loop puts back: never pulled.
      remote.sync.discard();
      remote.unsettled = false;
      if (pgid !== undefined) this.stranded.push(pgid);
      return outcome;
    }
    let fresh = end !== undefined;
    if (end?.watched === true) {
      // The watcher's word, once the process's barrier came through; no word (it stopped meanwhile): a full pull.
      const dirty = barrier === undefined ? undefined : await watch?.settle(barrier.name);
      if (dirty === false) {
        await remote.sync.settled();
        return outcome;
      }
      fresh = false;
    } else if (end?.unknown === true) fresh = false;
    else if (end !== undefined && !end.changed) return outcome;
    try {
      const report = await remote.sync.pull(conn, fresh, this.clearMark(remote));
      const notes: string[] = [];
      if (report.refused.length > 0) notes.push(`orc: refused to bring back ${String(report.refused.length)} path(s) from the remote (outside the workspace, in .git or orc's state): ${report.refused.slice(0, 5).join(", ")}`);
      if ((end?.gitChanged === true || report.gitChanged) && !this.warnedGit) {
        this.warnedGit = true;
        notes.push("orc: the remote's copy of .git changed; changes to .git stay on the remote and never come back");
      }
      return notes.length === 0 ? outcome : withNote(outcome, notes.join("\n"));
    } catch (error) {
      if (conn.lost !== undefined) {
        remote.sync.discard();
        return { ...outcome, end: "transport-lost", error: `the SSH connection to ${this.where} was lost while bringing the remote's changes back (${conn.lost})` };
      }
      remote.unsettled = true;
      return { ...outcome, end: "spawn-error", error: `ssh: bringing the remote's changes back failed: ${(error as Error).message}` };
    }
  }

  /** A task's directory is done with: its remote copy goes now rather than with the run. */
  async release(workspace: string): Promise<void> {
    const mirror = this.mirrors.get(workspace);
    if (mirror === undefined || workspace === this.options.hostWorkspace) return;
    this.mirrors.delete(workspace);
    this.processChannels.delete(workspace);
    this.watch?.forget(mirror.ws);
    await mirror.sync.close();
    if (this.conn === undefined || this.conn.lost !== undefined) return;
    await this.conn.capture(`rm -rf ${shq(mirror.ws)} ${shq(mirror.meta)}`).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    // Tasks' copies go with the run (their host directories do too); the run's own copy is kept for a resume.
    const tasks = [...this.mirrors.values()].filter((m) => m.hostWs !== this.options.hostWorkspace);
    if (tasks.length > 0 && this.conn?.lost === undefined) {
      await this.conn?.capture(`rm -rf ${tasks.flatMap((m) => [shq(m.ws), shq(m.meta)]).join(" ")}`).catch(() => undefined);
    }
    this.watch?.close();
    this.watch = undefined;
    await Promise.all([...this.mirrors.values()].map((m) => m.sync.close()));
    this.conn?.close();
    this.conn = undefined;
    this.processChannels.clear();
  }

  /** What the sync of the copy of `hostDir` (default: the run's workspace) did so far. */
  syncStats(hostDir = this.options.hostWorkspace): SyncStats {
    const sync = this.mirrors.get(hostDir)?.sync;
    return { pulls: sync?.pulls ?? 0, hostWalks: sync?.hostWalks ?? 0, hostWatched: sync?.hostWatched ?? false, remoteWatched: this.watch?.watching === true };
  }

  /**
   * The connection's remote watcher, started on its first process (the run's copy is there by then); undefined where
   * it does not run (no inotifywait, it stopped): the wrappers check with `find`. A new connection starts a new one.
   */
  private async watchOn(conn: SshConnection, ws: string): Promise<RemoteWatch | undefined> {
    if (this.watchConn !== conn) {
      this.watchConn = conn;
      this.watch?.close();
      this.watch = undefined;
      this.watchStarting = RemoteWatch.start(conn, { ws, tasks: `${ws}.tasks`, fallbackBarriers: `${ws}.orc-sync/barrier`, program: this.options.remoteWatcher ?? "inotifywait" })
        .then((watch) => { if (this.watchConn === conn) this.watch = watch; else watch?.close(); });
    }
    await this.watchStarting;
    return this.watch?.watching === true ? this.watch : undefined;
  }

  /**
   * The channels `mirror`'s processes run in on `conn` (a new connection gets new ones). A process of a task's copy
   * that would wait for a process slot takes the one the run's copy holds for its next process.
   */
  private channelsOn(conn: SshConnection, mirror: Mirror, direct: boolean): ProcessChannels {
    const known = this.processChannels.get(mirror.hostWs);
    if (known?.conn === conn) return known;
    const main = this.options.hostWorkspace;
    const slotsFull = mirror.hostWs === main ? undefined : (): void => { this.processChannels.get(main)?.giveBack(); };
    const channels = new ProcessChannels(conn, direct, mirror.meta, slotsFull);
    this.processChannels.set(mirror.hostWs, channels);
    return channels;
  }

  /** The clear barrier a sync of `mirror` creates before its remote `find`, while the watcher runs. */
  private clearMark(mirror: Mirror, issued?: string[]): ClearMark {
    return () => {
      const mark = this.watch?.watching === true ? this.watch.clearMark(mirror.ws) : undefined;
      if (mark !== undefined) issued?.push(mark.name);
      return mark?.path;
    };
  }

  /** Breaks the held connection as a network failure would (tests and the bench). */
  breakConnection(): void {
    this.conn?.destroy();
  }

  /** A dropped connection does not stop its remote processes (no terminal, no SIGHUP): their groups are killed here. */
  private async killStranded(conn: SshConnection): Promise<void> {
    const groups = this.stranded;
    this.stranded = [];
    await Promise.all(groups.map((pgid) => conn.killer.kill("KILL", pgid)));
  }

  /** The held connection, or a new one (with backoff) when there is none or it was lost. */
  private async connection(signal: AbortSignal | undefined): Promise<SshConnection> {
    if (this.fatal !== undefined) throw new Error(this.fatal);
    if (this.conn !== undefined && this.conn.lost === undefined) return this.conn;
    this.connecting ??= (async () => {
      try {
        const conn = await retry(() => SshConnection.open(this.options.target), { policy: RECONNECT, fatal: (e) => e instanceof FatalSshError, ...(signal === undefined ? {} : { signal }) });
        await this.setUp(conn);
        this.conn = conn;
        return conn;
      } catch (error) {
        if (error instanceof FatalSshError) this.fatal = error.message;
        throw error;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** The remote copy of `hostWs`, made on first use: the run's workspace at its configured path, a task's beside it. */
  private mirrorFor(hostWs: string, remote: { readonly ws: string }): Mirror {
    const known = this.mirrors.get(hostWs);
    if (known !== undefined) return known;
    let ws = remote.ws;
    if (hostWs !== this.options.hostWorkspace) {
      const hash = createHash("sha256").update(hostWs).digest("hex").slice(0, 12);
      ws = `${remote.ws}.tasks/${basename(hostWs).replace(/[^A-Za-z0-9._-]/g, "_")}-${hash}`;
    }
    const meta = `${ws}.orc-sync`;
    const links = hostWs === this.options.hostWorkspace ? [] : runLinks(hostWs, this.options.hostWorkspace, remote.ws);
    const mirror: Mirror = {
      hostWs,
      ws,
      meta,
      sync: new WorkspaceSync({ hostWs, remoteWs: ws, meta, skip: new Set([".git", ...this.options.skip, ...links.map((l) => l.name)]), links }),
      prompts: new PromptFiles(this.options.promptDir, `${meta}/prompts`),
      unsettled: false,
    };
    this.mirrors.set(hostWs, mirror);
    return mirror;
  }

  /** Once per orc process: the remote paths (`~` resolved through SFTP) and the login shell. */
  private async setUp(conn: SshConnection): Promise<void> {
    if (this.remote !== undefined) return;
    const configured = this.options.remoteWorkspace ?? defaultRemoteWorkspace(this.options.hostWorkspace, this.options.target.host);
    const home = await new Promise<string>((resolve, reject) => {
      void conn.sftp().then((sftp) => { sftp.realpath(".", (error, path) => { if (error) reject(error); else resolve(path); }); }, reject);
    });
    const ws = configured.startsWith("~/") ? `${home}/${configured.slice(2)}` : configured;
    // sshd runs each command with the user's login shell; `$0` names it.
    const shell = (await conn.capture('printf %s "$0"')).stdout.toString().replace(/^-/, "");
    // Tasks' copies an orc that died left behind (kill -9, a lost connection at the end): each task copies afresh anyway.
    await conn.capture(`rm -rf ${shq(`${ws}.tasks`)}`);
    this.remote = { ws, direct: POSIX_SHELLS.has(basename(shell)) };
  }

  /** The process's variables for the remote: host paths mapped (workspace, prompt files), the remote's own left alone. */
  private async remoteEnv(conn: SshConnection, env: Readonly<Record<string, string>>, remote: Mirror): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) {
      if (REMOTE_OWNED.has(key)) continue;
      const prompt = await remote.prompts.map(conn, value);
      out[key] = prompt ?? (value === remote.hostWs || value.startsWith(`${remote.hostWs}/`) ? remotePath(remote, value) : value);
    }
    return out;
  }
}

/**
 * The top-level links of a task's directory into the run's workspace (its ignored entries, src/workspace/task-dirs.ts),
 * as links into the run's remote copy.
 */
function runLinks(taskDir: string, runWs: string, remoteRunWs: string): { name: string; target: string }[] {
  const out: { name: string; target: string }[] = [];
  let names: string[];
  try {
    names = readdirSync(taskDir);
  } catch {
    return out;
  }
  for (const name of names) {
    let target: string;
    try {
      if (!lstatSync(join(taskDir, name)).isSymbolicLink()) continue;
      target = readlinkSync(join(taskDir, name));
    } catch {
      continue;
    }
    const rel = relative(runWs, target);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) continue;
    out.push({ name, target: `${remoteRunWs}/${rel}` });
  }
  return out;
}

/** A host directory's remote copy and its sync. */
interface Mirror {
  readonly hostWs: string;
  readonly ws: string;
  readonly meta: string;
  readonly sync: WorkspaceSync;
  readonly prompts: PromptFiles;
  /** The remote may hold changes not brought back (a process killed or cut off before it could say). */
  unsettled: boolean;
}

/** A host path inside the mirrored directory, as the remote sees it; anything else runs at the remote copy's root. */
function remotePath(mirror: Mirror, path: string): string {
  const rel = relative(mirror.hostWs, path);
  if (rel === "") return mirror.ws;
  if (rel.startsWith("..") || isAbsolute(rel)) return mirror.ws;
  return `${mirror.ws}/${rel}`;
}

function withNote(outcome: ProcessOutcome, note: string): ProcessOutcome {
  const line = `\n${note}\n`;
  return { ...outcome, stderrTail: outcome.stderrTail + line, outputTail: outcome.outputTail + line };
}
