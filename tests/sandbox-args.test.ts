import { describe, expect, it } from "vitest";
import { sandboxArgs } from "../src/transports/sandbox.js";

const options = { workspace: "/work/ws", stateDir: "/home/u/.local/state/orc/p", userHome: "/home/u", homeDir: "/home/u/.local/state/orc/p/runs/r/home", homePaths: [], network: true };

/** The `--flag SRC DEST` triples and lone flags of a bwrap command line, in order. */
function mounts(args: readonly string[]): string[] {
  return args.slice(0, args.indexOf("--")).join(" ").split(/ (?=--)/);
}

describe("the sandbox's bwrap command line", () => {
  it("makes /run private, before the home and workspace are bound, and binds back the PATH entries that lie under it", () => {
    const path = "/run/current-system/sw/bin:/usr/bin:/run/wrappers/bin:relative/bin";
    const lines = mounts(sandboxArgs(options, "/work/ws", "/work/ws", path));
    const run = lines.indexOf("--tmpfs /run");
    expect(run).toBeGreaterThan(lines.indexOf("--ro-bind / /"));
    expect(lines.indexOf("--ro-bind-try /run/current-system/sw/bin /run/current-system/sw/bin")).toBeGreaterThan(run);
    expect(lines.indexOf("--ro-bind-try /run/wrappers/bin /run/wrappers/bin")).toBeGreaterThan(run);
    expect(lines.indexOf("--bind /work/ws /work/ws")).toBeGreaterThan(run);
    // Only what lies under /run comes back, never /run itself nor a relative entry.
    expect(lines.filter((l) => l.startsWith("--ro-bind-try /usr") || l.includes("relative") || l === "--ro-bind-try /run /run")).toEqual([]);
  });
});
