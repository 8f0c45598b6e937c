import { readFileSync } from "node:fs";
import * as Commander from "commander";
import { EXIT } from "./exit-codes.js";
import { processIo, type Io } from "./io.js";

const { Command, CommanderError, InvalidArgumentError, Option } = Commander;

/** `--attempt 2`: attempts are counted from 1. */
function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number from 1 up");
  return n;
}

/**
 * The `orc` entry point. Each command's module is imported only when that command runs, so `orc --version` loads
 * commander and nothing else (no better-sqlite3, node-llama-cpp, ssh2 or dockerode).
 */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function program(io: Io, setExit: (code: number) => void): Commander.Command {
  const cli = new Command("orc")
    .description("Hand a plan to coding agents and walk away.")
    .version(version(), "-V, --version")
    .option("--config <file>", "use this orchestrator.yaml instead of searching upward")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const json = new Option("--json", "machine-readable output");
  const run = (fn: (globals: { config?: string }) => Promise<number>) => async (): Promise<void> => {
    setExit(await fn(cli.opts<{ config?: string }>()));
  };

  cli
    .command("validate")
    .description("check pipelines (and the templates they name) without running anything")
    .argument("<file...>")
    .addOption(json)
    .action((files: string[], opts: { json?: boolean }) =>
      run(async (g) => (await import("./validate.js")).validateCommand(files, { ...g, json: opts.json === true }, io))(),
    );
  cli
    .command("plan")
    .description("print the execution plan; writes nothing")
    .argument("<file>")
    .addOption(json)
    .action((file: string, opts: { json?: boolean }) => run(async (g) => (await import("./plan.js")).planCommand(file, { ...g, json: opts.json === true }, io))());
  cli
    .command("apply")
    .description("run a pipeline; prints the run id first")
    .argument("<file>")
    .option("--workspace <dir>", "directory the agents work in (default: the project root)")
    .option("--wait", "at a breakpoint, wait for `orc resolve` from another shell instead of exiting 3")
    .addOption(json)
    .action((file: string, opts: { json?: boolean; workspace?: string; wait?: boolean }) =>
      run(async (g) => {
        runGoesOn = true;
        return (await import("./apply.js")).applyCommand(
          file,
          { ...g, json: opts.json === true, wait: opts.wait === true, ...(opts.workspace !== undefined ? { workspace: opts.workspace } : {}) },
          io,
        );
      })(),
    );
  cli
    .command("resume")
    .description("continue a paused, interrupted or crashed run")
    .argument("<run>")
    .option("--wait", "at a breakpoint, wait for `orc resolve` from another shell instead of exiting 3")
    .addOption(json)
    .action((id: string, opts: { json?: boolean; wait?: boolean }) =>
      run(async (g) => {
        runGoesOn = true;
        return (await import("./resume.js")).resumeCommand(id, { ...g, json: opts.json === true, wait: opts.wait === true }, io);
      })(),
    );
  cli
    .command("status")
    .description("a run (the latest if omitted) with its tasks and attempts")
    .argument("[run]")
    .addOption(json)
    .action((id: string | undefined, opts: { json?: boolean }) =>
      run(async (g) => (await import("./status.js")).statusCommand(id, { ...g, json: opts.json === true }, io))(),
    );
  cli
    .command("stats")
    .description("across every run: task completion, attempts per task, breakpoints by rule, judge confidence and how well it held")
    .addOption(json)
    .action((opts: { json?: boolean }) => run(async (g) => (await import("./stats.js")).statsCommand({ ...g, json: opts.json === true }, io))());
  cli
    .command("runs")
    .description("list runs, newest first")
    .addOption(json)
    .action((opts: { json?: boolean }) => run(async (g) => (await import("./runs.js")).runsCommand({ ...g, json: opts.json === true }, io))());
  cli
    .command("logs")
    .description("the run's event ledger")
    .argument("<run>")
    .option("--follow", "keep printing new events until the run stops")
    .addOption(json)
    .action((id: string, opts: { json?: boolean; follow?: boolean }) =>
      run(async (g) => (await import("./logs.js")).logsCommand(id, { ...g, json: opts.json === true, follow: opts.follow === true }, io))(),
    );
  cli
    .command("breakpoints")
    .description("list open breakpoints (of RUN, or of every run) with why they opened")
    .argument("[run]")
    .addOption(json)
    .action((id: string | undefined, opts: { json?: boolean }) =>
      run(async (g) => (await import("./breakpoints.js")).breakpointsCommand(id, { ...g, json: opts.json === true }, io))(),
    );
  cli
    .command("resolve")
    .description("resolve a breakpoint; `orc resume RUN` then continues (the note reaches the next prompt)")
    .argument("<breakpoint>")
    .option("--approve", "accept the paused attempt as it is")
    .option("--reject", "fail the task")
    .option("--retry", "run a new attempt; its prompt carries the note")
    .option("--note <text>", "a note for the agent's next prompt and the record")
    .addOption(json)
    .action((id: string, opts: { json?: boolean; approve?: boolean; reject?: boolean; retry?: boolean; note?: string }) =>
      run(async (g) => (await import("./resolve.js")).resolveCommand(id, { ...g, ...opts, json: opts.json === true }, io))(),
    );
  cli
    .command("rollback")
    .description("put the workspace back to a checkpoint and mark what came after as rolled back (refused while the run is active)")
    .argument("<run>")
    .option("--task <id>", "to before the task's first attempt (with --attempt: before that attempt)")
    .option("--attempt <n>", "with --task: to before attempt N", positiveInt)
    .option("--to <checkpoint>", "to a checkpoint id (or a prefix of 7+ hex digits) from `orc status --json`")
    .addOption(json)
    .action((id: string, opts: { json?: boolean; task?: string; attempt?: number; to?: string }) =>
      run(async (g) => (await import("./rollback.js")).rollbackCommand(id, { ...g, ...opts, json: opts.json === true }, io))(),
    );
  cli
    .command("diff")
    .description("what an attempt changed, from the checkpoint store (the task's last attempt unless --attempt)")
    .argument("<run>")
    .argument("<task>")
    .option("--attempt <n>", "attempt N of the task", positiveInt)
    .addOption(json)
    .action((id: string, task: string, opts: { json?: boolean; attempt?: number }) =>
      run(async (g) => (await import("./diff.js")).diffCommand(id, task, { ...g, ...opts, json: opts.json === true }, io))(),
    );
  cli
    .command("doctor")
    .description("check this machine: node, git, the state directory, the configured LLM (0 ok, 1 problems)")
    .addOption(new Option("--json", "machine-readable output"))
    .action((opts: { json?: boolean }) => run(async (g) => (await import("./doctor.js")).doctorCommand({ ...g, json: opts.json === true }, io))());
  const rules = cli.command("rules").description("rule packs");
  rules
    .command("test")
    .description("run a rule pack's fixtures (PACK.test.yaml next to it): 0 all pass, 1 a case failed")
    .argument("<pack>", "a pack file, or the name of a pack shipped with orc (test-integrity, safety, budget, stuck)")
    .option("--fixtures <file>", "fixtures file (default: PACK.test.yaml next to the pack)")
    .addOption(new Option("--json", "machine-readable output"))
    .action((pack: string, opts: { json?: boolean; fixtures?: string }) =>
      run(async (g) =>
        (await import("./rules-test.js")).rulesTestCommand(pack, { ...g, json: opts.json === true, ...(opts.fixtures !== undefined ? { fixtures: opts.fixtures } : {}) }, io),
      )(),
    );
  return cli;
}

async function main(argv: readonly string[]): Promise<number> {
  const io = processIo();
  let code: number = EXIT.ok;
  try {
    await program(io, (c) => (code = c)).parseAsync([...argv], { from: "node" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return code;
}

/** Set by `apply` and `resume`: a run goes on when its output's reader goes away. */
let runGoesOn = false;

/**
 * A reader that goes away (`orc apply pipeline.yaml | head`, `orc logs RUN --follow | head`) closes our stdout. A run
 * goes on to its end without output (its state and exit code are what count); any other command stops there, as
 * command-line tools do. Either way, no unhandled EPIPE and no stack trace.
 */
function whenOutputCloses(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (!runGoesOn) process.exit(typeof process.exitCode === "number" ? process.exitCode : EXIT.ok);
  });
}

whenOutputCloses(process.stdout);
whenOutputCloses(process.stderr);
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug, not a user error: say so plainly, with the stack for the report, and exit 1.
    process.stderr.write(`orc: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
