import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { Diagnostic } from "../src/core/diagnostic.js";
import type { Settings } from "../src/core/pipeline.js";
import { formatDiagnostic, loadPipeline, validateFiles } from "../src/config/index.js";
import { Project } from "./config-project.js";
import { prng } from "./helpers/prng.js";
import { FUZZ_PIPELINE } from "./helpers/fuzz-pipeline.js";

/**
 * Mutates a valid pipeline thousands of ways (seeded, so a failure replays): through its YAML text and through its
 * data. Whatever comes out, validateFiles and loadPipeline must agree, never throw, and every diagnostic must point
 * inside the file.
 */
const CASES = 2400;
const SEED = 0x5eed_0c01;



type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class Mutator {
  constructor(private readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  value(depth = 0): Json {
    switch (this.int(depth > 3 ? 5 : 8)) {
      case 0:
        return this.pick(["design", "implement", "docs", "desing", "tests", "10m", "10 minutes", "", "pause", "command", "comand", "__proto__"]);
      case 1:
        return this.pick([0, -1, 1, 2.5, 1e9, Number.NaN, Number.POSITIVE_INFINITY]);
      case 2:
        return this.random() < 0.5;
      case 3:
        return null;
      case 4:
        return this.nest(1 + this.int(100));
      case 5:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.key(), this.value(depth + 1)]));
    }
  }

  key(): string {
    return this.pick(["id", "prompt", "template", "needs", "gates", "run", "judge", "kind", "timeout", "nedds", "x", "constructor", "max_attempts"]);
  }

  nest(depth: number): Json {
    let value: Json = "deep";
    for (let i = 0; i < depth; i++) value = this.random() < 0.5 ? [value] : { k: value };
    return value;
  }

  /** One change somewhere in the data: delete, replace, add, or rewire `needs`. */
  data(root: { [key: string]: Json }): void {
    const containers: Json[] = [root];
    const stack: Json[] = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (typeof node === "object" && node !== null) {
        for (const child of Object.values(node)) {
          if (typeof child === "object" && child !== null) {
            containers.push(child);
            stack.push(child);
          }
        }
      }
    }
    const target = this.pick(containers);
    if (target === null || typeof target !== "object") return;
    const tasks = Array.isArray(root.tasks) ? root.tasks : [];
    switch (this.int(6)) {
      case 0: {
        const keys = Object.keys(target);
        if (keys.length > 0) {
          const key = this.pick(keys);
          if (Array.isArray(target)) target.splice(Number(key), 1);
          else Reflect.deleteProperty(target, key);
        }
        break;
      }
      case 1: {
        const keys = Object.keys(target);
        if (keys.length > 0) (target as Record<string, Json>)[this.pick(keys)] = this.value();
        break;
      }
      case 2:
        if (Array.isArray(target)) target.push(this.value());
        else target[this.key()] = this.value();
        break;
      case 3: {
        const task = tasks.length > 0 ? this.pick(tasks) : null;
        if (task !== null && typeof task === "object" && !Array.isArray(task)) {
          const ids = ["design", "implement", "docs", "desing", "ghost", typeof task.id === "string" ? task.id : "self"];
          task.needs = this.random() < 0.3 ? this.pick(ids) : Array.from({ length: this.int(4) }, () => this.pick(ids));
        }
        break;
      }
      case 4: {
        const task = tasks.length > 0 ? this.pick(tasks) : null;
        if (task !== null) tasks.push(structuredClone(task));
        break;
      }
      default:
        root[this.key()] = this.value();
    }
  }

  /** One change to the text: truncate, drop or repeat or swap lines, splice in characters, bytes or nesting. */
  text(text: string): string | Uint8Array {
    const at = this.int(text.length + 1);
    const lines = text.split("\n");
    const line = this.int(lines.length);
    switch (this.int(9)) {
      case 0:
        return text.slice(0, at);
      case 1:
        lines.splice(line, 1);
        return lines.join("\n");
      case 2:
        lines.splice(line, 0, lines[line] ?? "");
        return lines.join("\n");
      case 3: {
        const other = this.int(lines.length);
        [lines[line], lines[other]] = [lines[other] ?? "", lines[line] ?? ""];
        return lines.join("\n");
      }
      case 4:
        return text.slice(0, at) + this.pick([":", "[", "]", "{", "}", "- ", "#", "&a ", "*a", "!", "|", ">", "'", '"', "%", "@", "`", "\t", "\n", " ", "? "]) + text.slice(at);
      case 5: {
        const bytes = Buffer.from(text);
        const noise = Buffer.from(Array.from({ length: 1 + this.int(8) }, () => this.int(256)));
        return Buffer.concat([bytes.subarray(0, at), noise, bytes.subarray(at)]);
      }
      case 6: {
        const n = 1 + this.int(150);
        return `${text.slice(0, at)}${"[".repeat(n)}${"]".repeat(this.int(n + 1))}${text.slice(at)}`;
      }
      case 7:
        lines[line] = `${" ".repeat(this.int(5))}${(lines[line] ?? "").trimStart()}`;
        return lines.join("\n");
      default:
        return text.slice(0, at) + String.fromCharCode(this.int(0x3000)) + text.slice(at);
    }
  }
}

function checkPosition(d: Diagnostic, source: string | undefined, where: string): void {
  expect(d.line, where).toBeGreaterThanOrEqual(1);
  expect(d.col, where).toBeGreaterThanOrEqual(1);
  expect(d.length, where).toBeGreaterThanOrEqual(1);
  expect(d.message.length, where).toBeGreaterThan(0);
  if (source === undefined) {
    expect([d.line, d.col], where).toEqual([1, 1]);
    return;
  }
  const lines = source.split("\n");
  expect(d.line, where).toBeLessThanOrEqual(lines.length);
  expect(d.col, where).toBeLessThanOrEqual((lines[d.line - 1] ?? "").length + 1);
}

describe("config: fuzz", () => {
  let project: Project;
  let settings: Settings;
  beforeAll(() => {
    project = new Project();
    project.write("templates/implement.liquid", "Implement {{ task.id }}.\n");
    settings = project.settings();
  });
  afterAll(() => {
    project.cleanup();
  });

  it("the base pipeline is valid", async () => {
    expect(await project.check("base.yaml", FUZZ_PIPELINE)).toBe("");
  });

  it(`${CASES} mutated pipelines: no throw, loadPipeline and validateFiles agree, every diagnostic inside the file`, async () => {
    const mutate = new Mutator(prng(SEED));
    const outcomes = { accepted: 0, rejected: 0 };
    const codes = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      let text: string | Uint8Array = FUZZ_PIPELINE;
      if (i % 2 === 0) {
        const data = parse(FUZZ_PIPELINE) as { [key: string]: Json };
        for (let n = 1 + mutate.int(3); n > 0; n--) mutate.data(data);
        text = stringify(data);
      }
      if (i % 3 !== 0) text = mutate.text(typeof text === "string" ? text : FUZZ_PIPELINE);
      const file = project.write(`case-${i % 50}.yaml`, text);
      const shown = (typeof text === "string" ? text : Buffer.from(text).toString("latin1")).slice(0, 400);
      const where = `case ${i}:\n${shown}`;

      const { diagnostics, sources } = await validateFiles([file], settings);
      const loaded = await loadPipeline(file, settings);
      const errors = diagnostics.filter((d) => d.severity === "error");
      expect(loaded.ok, where).toBe(errors.length === 0);
      const reported = loaded.ok ? diagnostics : loaded.failure.reason === "config" ? loaded.failure.diagnostics : [];
      if (!loaded.ok) expect(reported.length, where).toBeGreaterThan(0);
      const source = sources.get(file);
      if (source !== undefined) expect(source, where).toBe(readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
      for (const d of [...diagnostics, ...reported]) {
        expect(d.file, where).toBe(file);
        checkPosition(d, source, `${where}\n${d.code}: ${d.message}`);
        expect(formatDiagnostic(d, source, project.dir).startsWith(`case-${i % 50}.yaml:${d.line}:${d.col}: `), where).toBe(true);
        codes.add(d.code);
      }
      outcomes[loaded.ok ? "accepted" : "rejected"]++;
    }
    // The mix is seeded; these bounds only catch a mutator that stopped producing one side.
    expect(outcomes.accepted).toBeGreaterThan(CASES / 20);
    expect(outcomes.rejected).toBeGreaterThan(CASES / 2);
    expect(codes.size).toBeGreaterThan(15);
  }, 180_000);
});
