/**
 * The `sandbox` transport: every process runs inside bubblewrap (bwrap, Linux). The sandbox sees the host read-only
 * except the workspace; the workspace's `.git` stays read-only; orc's state directory is hidden; the home directory is
 * an empty one of orc's (kept per run) with only the paths named in config bound in read-only; /tmp and /run are private; the
 * process sees only its own pid namespace (orc cannot be signalled); network is the host's or none at all.
 *
 * bwrap leads the process group the supervisor starts, so a timeout's kill(-pid) reaches bwrap and the sandboxed
 * tree, and `--unshare-pid` makes the tree die with the namespace's first process. `--die-with-parent` ends the
 * sandbox when orc dies, whatever the reaper manages.
 */
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { SpawnedProcess } from "../core/events.js";
import type { ProcessOutcome, ProcessSpec, Transport } from "./port.js";
import { killGroupIfSame } from "./process-identity.js";
import { supervise } from "./supervisor.js";

export interface SandboxOptions {
  /** The one directory the sandbox may write (besides its home and /tmp). */
  readonly workspace: string;
  /** orc's state directory: invisible inside. */
  readonly stateDir: string;
  /** The user's home: inside, this path is `homeDir` instead; undefined (no HOME): the home is /tmp/home. */
  readonly userHome: string | undefined;
  /** orc's per-run home for the sandbox (created by the caller), bound writable at the home path. */
  readonly homeDir: string;
  /** Paths relative to the user's home, bound read-only into the sandbox's home where they exist. */
  readonly homePaths: readonly string[];
  readonly network: boolean;
  /** Paths under the state directory the processes must read (the run's prompt files), bound back read-only. */
  readonly readable?: readonly string[];
  /** Paths under the state directory the processes may write (the run's scratch directory), bound back writable. */
  readonly writable?: readonly string[];
  /** The bwrap executable; default `bwrap` on PATH. */
  readonly bwrap?: string;
}

/** Variables every process needs; others pass only when named in `transport.env` (or set by `agent.env`). */
const BASE_ENV = ["PATH", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME", "SHELL", "CI", "NO_COLOR", "FORCE_COLOR"];

/** The environment children start from in the sandbox: the base variables, the named ones, and the sandbox's HOME. */
export function sandboxEnv(host: Readonly<Record<string, string>>, names: readonly string[], home: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(host)) {
    if (BASE_ENV.includes(key) || key.startsWith("LC_") || names.includes(key)) out[key] = value;
  }
  out.HOME = home;
  return out;
}

/** The home path inside the sandbox. */
export function sandboxHome(options: Pick<SandboxOptions, "userHome">): string {
  return options.userHome ?? "/tmp/home";
}

/**
 * /run private too: its sockets would let a process out of the sandbox (the Docker engine's, the user's D-Bus session
 * bus, through which `systemd-run --user` starts anything outside); /var/run as well where it is a directory of its
 * own rather than a link to /run. What programs need from /run comes back read-only: each hop of /etc/resolv.conf
 * that lies there (systemd-resolved, NetworkManager), so names still resolve, and the PATH entries under it (NixOS and
 * Guix keep every program in /run/current-system).
 */
function privateRun(path: string | undefined): string[] {
  const args = ["--tmpfs", "/run"];
  if (isRealDirectory("/var/run")) args.push("--tmpfs", "/var/run");
  const back = new Set<string>();
  for (const hop of linkHops("/etc/resolv.conf")) if (inside(hop, "/run") && hop !== "/run") back.add(hop);
  for (const dir of (path ?? "").split(":")) if (isAbsolute(dir) && inside(dir, "/run") && dir !== "/run") back.add(dir);
  for (const dir of ["/run/current-system", "/run/booted-system"]) back.add(dir);
  for (const dir of back) args.push("--ro-bind-try", dir, dir);
  return args;
}

/** The paths a chain of symbolic links passes through, from `path` on (at most 16 hops). */
function linkHops(path: string): string[] {
  const hops = [path];
  let at = path;
  for (let i = 0; i < 16; i++) {
    let target: string;
    try {
      target = readlinkSync(at);
    } catch {
      break; // not a link (or gone): the chain ends here
    }
    at = resolve(dirname(at), target);
    hops.push(at);
  }
  return hops;
}

function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The bwrap arguments that set up the sandbox, up to and including `--`. Later mounts cover earlier ones, so the order
 * is: the host read-only, private /dev, /proc and /tmp, orc's home over the user's, the workspace, its `.git`
 * read-only, orc's state hidden, the prompt files shown again (read-only), the scratch directory (writable). Paths are array elements, never a shell string.
 */
export function sandboxArgs(options: SandboxOptions, cwd: string, workspace = options.workspace, path = process.env.PATH): string[] {
  const home = sandboxHome(options);
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", ...privateRun(path), "--bind", options.homeDir, home];
  if (options.userHome !== undefined) {
    for (const path of options.homePaths) args.push("--ro-bind-try", join(options.userHome, path), join(home, path));
  }
  // A task's own directory (tasks side by side): the run's workspace stays readable (the task's links to its ignored
  // entries, node_modules, lead there, and it may lie under /tmp or the home) but not writable.
  if (workspace !== options.workspace) args.push("--ro-bind", options.workspace, options.workspace);
  args.push("--bind", workspace, workspace, "--ro-bind-try", join(workspace, ".git"), join(workspace, ".git"));
  // Under the home or /tmp (and not in the workspace) the state is already out of sight, and a tmpfs there would
  // create its mount point inside orc's home directory.
  const hidden = (options.userHome === undefined || !inside(options.stateDir, options.userHome)) && !inside(options.stateDir, "/tmp");
  if (existsSync(options.stateDir) && (hidden || inside(options.stateDir, workspace))) args.push("--tmpfs", options.stateDir);
  for (const path of options.readable ?? []) args.push("--ro-bind-try", path, path);
  for (const path of options.writable ?? []) args.push("--bind-try", path, path);
  args.push("--unshare-pid", "--unshare-ipc");
  if (!options.network) args.push("--unshare-net");
  // As root, bwrap keeps every capability inside: without this, the agent could remount `.git` writable.
  args.push("--die-with-parent", "--cap-drop", "ALL", "--chdir", cwd, "--");
  return args;
}

/** Runs processes inside bubblewrap, through the one supervisor. */
export class SandboxTransport implements Transport {
  readonly kind = "sandbox";

  constructor(private readonly options: SandboxOptions) {}

  async run(spec: ProcessSpec): Promise<ProcessOutcome> {
    // With a shell, extra args stay the script's positional parameters, as the supervisor gives them locally.
    const inner = spec.shell === true ? ["/bin/sh", "-c", spec.command, "sh", ...(spec.args ?? [])] : [spec.command, ...(spec.args ?? [])];
    const bwrap = this.options.bwrap ?? "bwrap";
    // SIGTERM to the sandboxed tree, not bwrap: bwrap would die at once and take the tree with it, grace unused.
    const outcome = await supervise({ ...spec, shell: false, spareLeaderOnTerm: true, command: bwrap, args: [...sandboxArgs(this.options, spec.cwd, spec.workspace, spec.env.PATH), ...inner] });
    if (outcome.end !== "spawn-error") return outcome;
    return { ...outcome, error: `the sandbox could not start (${outcome.error ?? "unknown error"}); is bubblewrap installed? (orc doctor)` };
  }

  stopOrphan(process: SpawnedProcess): boolean {
    return killGroupIfSame(process);
  }
}
