// Real git workspaces for the checkpoint tests: a scratch directory on tmpfs, a user's repository of many small files,
// byte-for-byte fingerprints, and the tree a plain `git add --all` into an empty store gives (the oracle).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { LocalTransport } from "../../src/transports/local.js";
import type { ProcessOutcome, ProcessSpec, Transport } from "../../src/transports/port.js";
import { ShadowGit } from "../../src/workspace/shadow-git.js";

/** tmpfs when there is one: disk speed here drifts 6-10x within an hour, and these tests write thousands of files. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), prefix));
}

/** git as a user runs it, isolated from this machine's configuration. */
export function userGit(cwd: string, args: readonly string[]): string {
  return execFileSync("git", ["-c", "gc.auto=0", ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "user",
      GIT_AUTHOR_EMAIL: "user@example.com",
      GIT_COMMITTER_NAME: "user",
      GIT_COMMITTER_EMAIL: "user@example.com",
    },
    encoding: "utf8",
  });
}

export function writeFile(root: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A committed repository of `dirs` × `perDir` files (`d07/f12.ts`), with a .gitignore for `dist/` and `*.log`. */
export function userRepository(workspace: string, dirs: number, perDir: number): void {
  mkdirSync(workspace, { recursive: true });
  for (let d = 0; d < dirs; d++) {
    for (let f = 0; f < perDir; f++) writeFile(workspace, `d${String(d).padStart(2, "0")}/f${String(f)}.ts`, `export const v = ${String(d * perDir + f)};\n`);
  }
  writeFile(workspace, ".gitignore", "dist/\n*.log\n");
  userGit(workspace, ["init", "-q"]);
  userGit(workspace, ["add", "-A"]);
  userGit(workspace, ["commit", "-q", "-m", "init"]);
}

/** Every file and symlink under `dir` (but `skip`) with the sha256 of its bytes (or its target) and its mode. */
export function fingerprint(dir: string, skip: (path: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full);
      if (skip(rel)) continue;
      if (entry.isDirectory()) walk(full);
      else {
        const content = entry.isSymbolicLink() ? Buffer.from(readlinkSync(full)) : readFileSync(full);
        out[rel] = `${createHash("sha256").update(content).digest("hex")} ${lstatSync(full).mode.toString(8)}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** The tree a plain `git add --all` into an empty store gives for the workspace now (no borrowing, no watcher). */
export async function plainTree(workspace: string, stateDir: string): Promise<string> {
  const storeDir = scratchDir("orc-oracle-");
  try {
    // A store that exists before init() is used as it is: nothing is borrowed from the user's repository.
    execFileSync("git", ["init", "-q", "--bare", storeDir], { env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } });
    const git = new ShadowGit({ storeDir, workspace, stateDir, transport: new LocalTransport() });
    await git.init();
    return await git.snapshot();
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
}

/** The local transport, counting the processes it starts. */
export class CountingTransport implements Transport {
  readonly kind = "local";
  readonly commands: string[][] = [];
  private readonly inner = new LocalTransport();

  run(spec: ProcessSpec): Promise<ProcessOutcome> {
    this.commands.push([spec.command, ...(spec.args ?? [])]);
    return this.inner.run(spec);
  }
}
