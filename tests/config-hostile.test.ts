import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Project } from "./config-project.js";
import { loadPipeline } from "../src/config/index.js";

/** Hostile or broken input: always diagnostics (never an exception, never a stack trace), each within a second. */
describe("config: hostile input", () => {
  let project: Project;
  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => {
    project.cleanup();
  });

  async function timed(file: string, text: string | Uint8Array): Promise<string> {
    const started = performance.now();
    const printed = await project.check(file, text);
    // A guard against blow-ups (an alias bomb expanded, a quadratic scan), not a speed figure: those take minutes or
    // run out of memory, while a loaded 2-core machine may take a second or two for an honest file. Speed: bench/.
    expect(performance.now() - started).toBeLessThan(10_000);
    return printed;
  }

  it("refuses a file over 1 MiB without parsing it", async () => {
    const text = `version: 1\ntasks:\n${"  - { id: t, prompt: x }\n".repeat(50_000)}`;
    expect(await timed("big.yaml", text)).toBe("big.yaml:1:1: error: file is too large (1.2 MiB; the limit is 1 MiB)");
  });

  it("stops an alias bomb (billion laughs)", async () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    expect(await timed("bomb.yaml", `${levels.join("\n")}\n`)).toBe(
      ["bomb.yaml:1:1: error: aliases expand to more than 100 nodes", "   1 | a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]", "     | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"].join("\n"),
    );
  });

  it("refuses more aliases than the limit before expanding any", async () => {
    const text = `a: &a x\nlist: [${Array(150).fill("*a").join(", ")}]\n`;
    const printed = await timed("many.yaml", text);
    expect(printed.split("\n")[0]).toBe("many.yaml:2:408: error: more than 100 aliases");
  });

  it("refuses an alias inside the node it refers to", async () => {
    expect(await timed("loop.yaml", "tasks: &t [*t]\n")).toBe(
      ['loop.yaml:1:12: error: alias "*t" is inside the node it refers to', "   1 | tasks: &t [*t]", "     |            ^^"].join("\n"),
    );
  });

  it("refuses an alias with no anchor", async () => {
    expect(await timed("alias.yaml", "version: *v\n")).toBe(
      ['alias.yaml:1:10: error: alias "*v" has no anchor before it', "   1 | version: *v", "     |          ^^"].join("\n"),
    );
  });

  it("refuses flow nesting deeper than 64 levels before the parser recurses", async () => {
    const printed = await timed("deep.yaml", `tasks: ${"[".repeat(200_000)}${"]".repeat(200_000)}\n`);
    expect(printed.split("\n")[0]).toBe("deep.yaml:1:72: error: nesting is deeper than 64 levels");
  });

  it("refuses block nesting deeper than 64 levels", async () => {
    const text = Array.from({ length: 100 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n");
    expect((await timed("deep.yaml", `${text} x\n`)).split("\n")[0]).toBe("deep.yaml:65:65: error: nesting is deeper than 64 levels");
    expect((await timed("dashes.yaml", `tasks:\n${"- ".repeat(100_000)}x\n`)).split("\n")[0]).toBe(
      "dashes.yaml:2:129: error: nesting is deeper than 64 levels",
    );
  });

  it("refuses a file with too many YAML tokens for the parser to handle quickly", async () => {
    const printed = await timed("commas.yaml", `tasks: [${",".repeat(500_000)}]\n`);
    expect(printed.split("\n")[0]).toBe("commas.yaml:1:50003: error: the file has more than 50000 YAML tokens; orc reads smaller files");
  });

  it("reads a large but ordinary file well within the limit", async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => `  - id: t${i}\n    prompt: do step ${i}\n    needs: [${i === 0 ? "" : `t${i - 1}`}]\n`);
    const text = `version: 1\nagent: { kind: command, run: "true" }\ntasks:\n${tasks.join("")}`;
    expect(await timed("long.yaml", text)).toBe("");
  });

  it.each(["__proto__", "constructor", "prototype"])("refuses the key %s anywhere, without polluting prototypes", async (key) => {
    const text = `version: 1\nagent:\n  kind: command\n  run: x\n  options:\n    ${key}: { polluted: true }\ntasks: [{ id: a, prompt: x }]\n`;
    expect(await timed("proto.yaml", text)).toBe(
      [`proto.yaml:6:5: error: key "${key}" is not allowed`, `   6 |     ${key}: { polluted: true }`, `     |     ${"^".repeat(key.length)}`].join("\n"),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const loaded = await loadPipeline(project.path("proto.yaml"), project.settings());
    expect(loaded.ok).toBe(false);
  });

  it("refuses binary garbage and text that is not UTF-8, at 1:1", async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256);
    expect(await timed("garbage.yaml", garbage)).toBe("garbage.yaml:1:1: error: file is a binary file (it contains NUL bytes)");
    expect(await timed("latin1.yaml", Uint8Array.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]))).toBe(
      "latin1.yaml:1:1: error: file is not UTF-8 text",
    );
  });

  it("refuses an empty file, a comment-only file, a scalar and a list at the top level", async () => {
    expect(await timed("empty.yaml", "")).toBe("empty.yaml:1:1: error: the file is empty: expected a mapping of settings\n   1 |\n     | ^");
    expect((await timed("comment.yaml", "# nothing\n")).split("\n")[0]).toBe("comment.yaml:1:1: error: the file is empty: expected a mapping of settings");
    expect(await timed("scalar.yaml", "hello\n")).toBe(
      "scalar.yaml:1:1: error: expected a mapping of settings at the top level, found a single value\n   1 | hello\n     | ^^^^^",
    );
    expect(await timed("list.yaml", "- a\n- b\n")).toBe(
      "list.yaml:1:1: error: expected a mapping of settings at the top level, found a list\n   1 | - a\n     | ^^^",
    );
  });

  it("refuses keys that are not plain strings, and several documents in one file", async () => {
    expect((await timed("key.yaml", "? [a, b]\n: c\n")).split("\n")[0]).toBe("key.yaml:1:3: error: keys must be plain strings, not lists, mappings or aliases");
    expect((await timed("docs.yaml", "version: 1\n---\nversion: 1\n")).split("\n")[0]).toBe(
      "docs.yaml:2:1: error: source contains multiple documents; please use YAML.parseAllDocuments()",
    );
  });

  it("shows control characters in the file as one visible character each", async () => {
    const printed = await timed("ctl.yaml", "version: 1\nname: \u001b[31mred\nta sks: x\n");
    expect(printed).not.toContain("\u001b");
  });
});
