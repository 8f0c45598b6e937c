import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DirectoryWatches } from "../src/watch/directory-watches.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanup.splice(0)) undo();
});

function setup(maxDirectories?: number) {
  const root = mkdtempSync(join(tmpdir(), "orc-dirwatch-test-"));
  const watches = new DirectoryWatches(root, (path) => basename(path) === "node_modules", maxDirectories);
  cleanup.push(() => {
    watches.close();
    rmSync(root, { recursive: true, force: true });
  });
  const write = (path: string, content = "x"): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  return { root, watches, write };
}

/** A process that writes `file` and exits, awaited the way the supervisor awaits an agent (its `close`). */
function agentWrites(cwd: string, file: string): Promise<void> {
  return new Promise((done) => {
    const child = spawn("/bin/sh", ["-c", 'echo changed >> "$1"', "sh", file], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.on("close", () => {
      done();
    });
  });
}

describe.runIf(process.platform === "linux")("DirectoryWatches", () => {
  it("is unknown before the first arm, quiet after it while nothing happens", async () => {
    const { watches, write } = setup();
    write("src/a.ts");
    expect(await watches.state()).toBe("unknown");
    watches.arm();
    expect(await watches.state()).toBe("quiet");
  });

  it("reports what a process did before it exited, every time, by the next turn of the event loop", async () => {
    const { root, watches, write } = setup();
    write("deep/er/file.txt");
    for (let i = 0; i < 25; i++) {
      watches.arm();
      await agentWrites(join(root, "deep/er"), "file.txt");
      expect(await watches.state()).toBe("changed");
    }
  });

  it("sees a new directory, and watches it from the next arm on", async () => {
    const { root, watches, write } = setup();
    write("a.txt");
    watches.arm();
    write("new/dir/b.txt");
    expect(await watches.state()).toBe("changed");
    watches.arm();
    expect(await watches.state()).toBe("quiet");
    await agentWrites(join(root, "new/dir"), "b.txt");
    expect(await watches.state()).toBe("changed");
  });

  it("keeps watching a directory replaced under the same path (removed and made again, or renamed over)", async () => {
    const { root, watches, write } = setup();
    write("src/a.ts");
    write("lib/b.ts");
    watches.arm();
    rmSync(join(root, "src"), { recursive: true });
    mkdirSync(join(root, "src"));
    expect(await watches.state()).toBe("changed");
    watches.arm();
    await agentWrites(join(root, "src"), "a.ts");
    expect(await watches.state()).toBe("changed");
    watches.arm();
    write("lib2/c.ts");
    renameSync(join(root, "lib"), join(root, "lib.old"));
    renameSync(join(root, "lib2"), join(root, "lib"));
    expect(await watches.state()).toBe("changed");
    watches.arm();
    await agentWrites(join(root, "lib"), "c.ts");
    expect(await watches.state()).toBe("changed");
  });

  it("ignores ignored directories: neither what happens in them nor their own creation is a change", async () => {
    const { watches, write } = setup();
    write("pkg/index.js");
    write("node_modules/dep/index.js");
    watches.arm();
    write("node_modules/dep/index.js", "y");
    write("pkg/node_modules/other/index.js");
    expect(await watches.state()).toBe("quiet");
  });

  it("gives up on a workspace with too many directories: unknown from then on", async () => {
    const { watches, write } = setup(3);
    for (const d of ["a", "b", "c", "d"]) write(`${d}/f.txt`);
    watches.arm();
    expect(await watches.state()).toBe("unknown");
    watches.arm();
    expect(await watches.state()).toBe("unknown");
  });
});
