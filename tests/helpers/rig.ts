import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { locateState } from "../../src/config/state-location.js";

export const REPO = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const ORC = join(REPO, "bin", "orc.cjs");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A throwaway project directory and the real `orc` binary run in it as a child process. Tests see exactly what a
 * user sees: stdout, stderr and the exit code. Every orc it runs has a HOME (and XDG_STATE_HOME) of its own, beside
 * the project in the same temporary folder: orc's default state directory lands there, never in the real home, and
 * outside the project, as it would for a user.
 */
export class Rig {
  /** The temporary folder: `project/` (the project, `dir`) and `home/`. */
  readonly base: string;
  readonly dir: string;
  readonly home: string;

  constructor(prefix = "orc-test-") {
    this.base = mkdtempSync(join(tmpdir(), prefix));
    this.dir = join(this.base, "project");
    this.home = join(this.base, "home");
    mkdirSync(this.dir);
    mkdirSync(this.home);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  write(file: string, text: string): string {
    const path = this.path(file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  read(file: string): string {
    return readFileSync(this.path(file), "utf8");
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    delete env.ORC_STATE_DIR;
    return { ...env, CI: "true", HOME: this.home, XDG_STATE_HOME: join(this.home, ".local", "state"), ...extra };
  }

  /**
   * Where orc keeps the state of the project at `root` when run with `env` (ORC_STATE_DIR, an existing `.orc/`, or
   * the default under the rig's home), by orc's own function; `state:` in orchestrator.yaml is not read.
   */
  stateDir(root = this.dir, env: Record<string, string> = {}): string {
    const located = locateState({ root, cwd: root, env: this.env(env) });
    if (!located.ok) throw new Error(`no state directory: ${JSON.stringify(located.failure)}`);
    return located.value.dir;
  }

  /** Runs `orc ARGS` to completion (synchronously: tests read better without callbacks). */
  orc(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): CliResult {
    const result = spawnSync(process.execPath, [ORC, ...args], {
      cwd: options.cwd ?? this.dir,
      env: this.env(options.env),
      encoding: "utf8",
      timeout: options.timeoutMs ?? 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Starts `orc ARGS` in the background; resolve with `finished()`. */
  start(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): RunningOrc {
    const child = spawn(process.execPath, [ORC, ...args], { cwd: options.cwd ?? this.dir, env: this.env(options.env), stdio: ["ignore", "pipe", "pipe"] });
    return new RunningOrc(child);
  }

  // The caller names the shape it expects of orc's JSON output; the assertions that follow check it.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  json<T>(args: readonly string[], options: { env?: Record<string, string> } = {}): T {
    const result = this.orc(args, options);
    if (result.code !== 0) throw new Error(`orc ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  cleanup(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

export class RunningOrc {
  stdout = "";
  stderr = "";
  private readonly done: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (this.stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
    this.done = new Promise((resolve) => child.on("close", (code) => { resolve(code); }));
  }

  /** Resolves once stdout contains `text` (or rejects after `timeoutMs`). */
  async waitFor(text: string | RegExp, timeoutMs = 30_000): Promise<void> {
    const start = Date.now();
    while (!(typeof text === "string" ? this.stdout.includes(text) : text.test(this.stdout))) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; stdout so far:\n${this.stdout}\nstderr:\n${this.stderr}`);
      if (this.child.exitCode !== null) throw new Error(`orc exited ${this.child.exitCode} before printing ${String(text)}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  finished(): Promise<number | null> {
    return this.done;
  }
}

/** A node one-liner as a shell-safe command line for `run:` fields. */
export function nodeScript(path: string): string {
  return `node ${JSON.stringify(path)}`;
}

/** True while the process exists and is not a zombie (a container's init may be slow to reap orphans). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Waits up to `ms` for a process to be gone. */
export async function gone(pid: number, ms = 3_000): Promise<boolean> {
  const start = Date.now();
  while (isAlive(pid)) {
    if (Date.now() - start > ms) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
