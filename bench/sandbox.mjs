// Per-command overhead of `transport: sandbox`: a few hundred short commands (`true`) through SandboxTransport, against
// the same bwrap command line (sandboxArgs, so the same binds) spawned bare with child_process.spawn and through the
// supervisor, and against LocalTransport. The series alternate command by command, so drift hits them alike.
// Run `npm run build` first, then `node bench/sandbox.mjs`; prints one JSON line. Target: ratio_bwrap (sandbox /
// bare bwrap) <= 1.2.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LocalTransport } from "../dist/transports/local.js";
import { SandboxTransport, sandboxArgs } from "../dist/transports/sandbox.js";
import { supervise } from "../dist/transports/supervisor.js";
import { interleave, round, scratch } from "./lib.mjs";

const COMMANDS = 300;
const WARMUP = 20;

function bare(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn("bwrap", args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`bwrap exited ${code}`))));
  });
}

export async function run() {
  const dir = scratch("orc-bench-sandbox-");
  try {
    const workspace = join(dir, "ws");
    const options = { workspace, stateDir: join(dir, "state"), userHome: join(dir, "user"), homeDir: join(dir, "home"), homePaths: [".config"], network: false };
    for (const d of [workspace, options.stateDir, options.userHome, options.homeDir]) mkdirSync(d, { recursive: true });
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: options.userHome };
    const spec = { command: "true", cwd: workspace, env };
    const sandbox = new SandboxTransport(options);
    const local = new LocalTransport();
    const args = [...sandboxArgs(options, workspace), "true"];
    const check = (outcome) => {
      if (outcome.exitCode !== 0) throw new Error(`exited ${outcome.exitCode}: ${outcome.outputTail}`);
    };
    const series = {
      sandbox: async () => check(await sandbox.run(spec)),
      bwrap_supervised: async () => check(await supervise({ command: "bwrap", args, cwd: workspace, env })),
      bwrap_bare: () => bare(args, env, workspace),
      local: async () => check(await local.run(spec)),
    };
    const { median_ms: medians, p95_ms: p95 } = await interleave(series, { runs: COMMANDS, warmup: WARMUP });
    return {
      bench: "sandbox",
      commands: COMMANDS,
      median_ms: medians,
      p95_ms: p95,
      ratio_bwrap: round(medians.sandbox / medians.bwrap_bare, 2),
      ratio_bwrap_supervised: round(medians.sandbox / medians.bwrap_supervised, 2),
      ratio_local: round(medians.sandbox / medians.local, 2),
      target: "ratio_bwrap <= 1.2",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
