import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalTransport } from "../src/transports/local.js";
import { LocalWorkspace } from "../src/workspace/local.js";

/** Held-out gates need single files of a checkpoint: listed, read, put back, removed, the rest left as it is. */
describe("a workspace restores some paths from a checkpoint", () => {
  let root: string;
  let ws: string;
  let workspace: LocalWorkspace;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(ws, path)), { recursive: true });
    writeFileSync(join(ws, path), text);
  };
  const read = (path: string): string => readFileSync(join(ws, path), "utf8");

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "orc-restore-paths-"));
    ws = join(root, "ws");
    write("package.json", '{"scripts":{"test":"node --test"}}\n');
    write("src/calc.mjs", "export const add = (a, b) => a - b;\n");
    write("tests/calc.test.mjs", "test('add')\n");
    workspace = await LocalWorkspace.open({ dir: ws, stateDir: join(root, "state"), runId: "r1", transport: new LocalTransport(), exclusive: true });
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("puts back edited, deleted and created paths it is given, and leaves the agent's other work in place", async () => {
    const before = await workspace.checkpointBefore();
    expect(await workspace.pathsAt(before)).toEqual(["package.json", "src/calc.mjs", "tests/calc.test.mjs"]);
    write("package.json", '{"scripts":{"test":"echo all tests passed"}}\n');
    write("src/calc.mjs", "export const add = (a, b) => a + b;\n");
    rmSync(join(ws, "tests/calc.test.mjs"));
    write("vitest.config.mjs", "export default { test: { exclude: ['tests/**'] } };\n");

    await workspace.restorePaths(before, ["package.json", "tests/calc.test.mjs", "vitest.config.mjs"]);
    expect(read("package.json")).toBe('{"scripts":{"test":"node --test"}}\n');
    expect(read("tests/calc.test.mjs")).toBe("test('add')\n");
    expect(existsSync(join(ws, "vitest.config.mjs"))).toBe(false);
    expect(read("src/calc.mjs")).toBe("export const add = (a, b) => a + b;\n");
    // The restore is seen by the next checkpoint (the change watcher alone would not be asked).
    const after = await workspace.changesSince(before, { task: "t", attempt: 1 });
    expect(after.files.map((f) => `${f.status} ${f.path}`)).toEqual(["modified src/calc.mjs"]);
  });

  it("reads one file of a checkpoint, and removes paths for a while", async () => {
    const before = await workspace.checkpointBefore();
    write("package.json", "{}\n");
    expect(await workspace.readAt(before, "package.json")).toBe('{"scripts":{"test":"node --test"}}\n');
    expect(await workspace.readAt(before, "missing.json")).toBeUndefined();
    await workspace.removePaths(["tests/calc.test.mjs", "not/there.txt"]);
    expect(existsSync(join(ws, "tests/calc.test.mjs"))).toBe(false);
    await workspace.restorePaths(before, ["tests/calc.test.mjs"]);
    expect(read("tests/calc.test.mjs")).toBe("test('add')\n");
  });

  it("refuses a path outside the workspace", async () => {
    const before = await workspace.checkpointBefore();
    await expect(workspace.removePaths(["../outside"])).rejects.toThrow("not a path inside the workspace");
    await expect(workspace.restorePaths(before, ["/etc/passwd"])).rejects.toThrow("not a path inside the workspace");
  });
});
