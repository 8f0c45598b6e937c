import { mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Pipeline } from "../src/core/pipeline.js";
import { loadPipeline, loadSettings, useKind } from "../src/config/index.js";
import { projectKey } from "../src/config/state-location.js";
import { mergeAgent } from "../src/config/agent.js";
import { Project } from "./config-project.js";

const MIN = 60_000;

describe("config: loadSettings", () => {
  let project: Project;
  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => {
    project.cleanup();
  });

  it("defaults every field when there is no orchestrator.yaml", () => {
    expect(project.settings()).toEqual({
      file: undefined,
      root: project.dir,
      stateDir: join(project.path(".home"), ".local", "state", "orc", "projects", projectKey(project.dir)),
      stateSource: "default",
      agent: { kind: "command", timeoutMs: 30 * MIN, inactivityTimeoutMs: 10 * MIN, env: {}, options: {} },
      concurrency: 1,
      maxAttempts: 3,
      uses: [],
    });
  });

  it("finds orchestrator.yaml above the current directory and reads it", () => {
    const file = project.write(
      "orchestrator.yaml",
      [
        "agent:",
        "  kind: command",
        "  run: ./agent.sh --fast",
        "  timeout: 1h",
        "  env: { MODE: ci, RETRIES: 2 }",
        "  options: { model: small }",
        "llm: { model: tiny.gguf }",
        "state: { dir: var/orc }",
        "concurrency: 4",
        "max_attempts: 5",
        "uses: [./rules/a.yaml, orc-rules-strict]",
        "",
      ].join("\n"),
    );
    mkdirSync(project.path("src", "deep"), { recursive: true });
    const result = loadSettings({ cwd: project.path("src", "deep"), env: project.env });
    expect(result).toEqual({
      ok: true,
      value: {
        file,
        root: project.dir,
        stateDir: project.path("var", "orc"),
        stateSource: "config",
        agent: {
          kind: "command",
          run: "./agent.sh --fast",
          timeoutMs: 60 * MIN,
          inactivityTimeoutMs: 10 * MIN,
          env: { MODE: "ci", RETRIES: "2" },
          options: { model: "small" },
        },
        concurrency: 4,
        maxAttempts: 5,
        uses: [project.path("rules", "a.yaml"), "orc-rules-strict"],
        // `llm:` is normalised: the model path resolves against orchestrator.yaml, every other field is defaulted.
        llm: {
          kind: "llama-cpp",
          model: project.path("tiny.gguf"),
          gpu: "auto",
          contextSize: 8192,
          gpuLayers: "auto",
          timeoutMs: 2 * MIN,
          maxPromptTokens: 6000,
          maxOutputTokens: 768,
          optimizePrompts: false,
        },
      },
    });
  });

  it("places state: ORC_STATE_DIR, then state:, then an existing .orc/state.db, then the default outside the project", () => {
    const outside = join(project.path(".home"), ".local", "state", "orc", "projects", projectKey(project.dir));
    expect(project.settings()).toMatchObject({ stateDir: outside, stateSource: "default" });
    project.write(".orc/state.db", "");
    expect(project.settings()).toMatchObject({ stateDir: project.path(".orc"), stateSource: "legacy" });
    project.write("orchestrator.yaml", "state: ./state-here\n");
    expect(project.settings()).toMatchObject({ stateDir: project.path("state-here"), stateSource: "config" });
    expect(project.settings({ ORC_STATE_DIR: "elsewhere" })).toMatchObject({ stateDir: project.path("elsewhere"), stateSource: "env" });
    expect(project.settings({ ORC_STATE_DIR: "" }).stateDir).toBe(project.path("state-here"));
  });

  it("keys the default by the project root's real path: <name>-<first 12 hex of its sha256>", () => {
    expect(projectKey(project.dir)).toMatch(new RegExp(`^${basename(project.dir).replace(/[^A-Za-z0-9._-]+/g, "-")}-[0-9a-f]{12}$`));
    symlinkSync(project.dir, project.path("..", `${basename(project.dir)}-link`));
    try {
      expect(projectKey(`${project.dir}-link`)).toBe(projectKey(project.dir));
    } finally {
      rmSync(`${project.dir}-link`);
    }
    expect(projectKey("/")).toMatch(/^project-[0-9a-f]{12}$/);
    expect(projectKey("/srv/my app (copy)")).toMatch(/^my-app-copy-[0-9a-f]{12}$/);
  });

  it("fails with one line naming ORC_STATE_DIR when neither HOME nor XDG_STATE_HOME is usable", () => {
    const message = "nowhere to keep orc's state: HOME is not set to an absolute path (nor XDG_STATE_HOME); set ORC_STATE_DIR to a directory for it";
    for (const env of [{}, { HOME: "" }, { HOME: "relative", XDG_STATE_HOME: "also/relative" }]) {
      expect(loadSettings({ cwd: project.dir, env })).toEqual({ ok: false, failure: { reason: "state", message } });
    }
    expect(loadSettings({ cwd: project.dir, env: { XDG_STATE_HOME: "/xdg" } })).toMatchObject({ ok: true, value: { stateDir: join("/xdg", "orc", "projects", projectKey(project.dir)) } });
    expect(loadSettings({ cwd: project.dir, env: { ORC_STATE_DIR: "s" } })).toMatchObject({ ok: true, value: { stateDir: project.path("s"), stateSource: "env" } });
  });

  it("reads --config FILE instead of searching, relative to cwd", () => {
    project.write("orchestrator.yaml", "concurrency: 2\n");
    project.write("ci/settings.yaml", "concurrency: 8\n");
    const result = loadSettings({ cwd: project.dir, configFile: "ci/settings.yaml", env: project.env });
    expect(result.ok && result.value.concurrency).toBe(8);
    expect(result.ok && result.value.root).toBe(project.path("ci"));
    const missing = loadSettings({ cwd: project.dir, configFile: "nope.yaml", env: project.env });
    expect(missing).toEqual({
      ok: false,
      failure: {
        reason: "config",
        diagnostics: [
          { file: project.path("nope.yaml"), line: 1, col: 1, length: 1, severity: "error", code: "unreadable", message: "file not found" },
        ],
      },
    });
  });

  it("loads the repository's own orchestrator.yaml", () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const result = loadSettings({ cwd: root, env: { HOME: "/home/someone" } });
    expect(result.ok).toBe(true);
  });
});

describe("config: loadPipeline", () => {
  let project: Project;
  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => {
    project.cleanup();
  });

  async function load(text: string): Promise<Pipeline> {
    const file = project.write("pipelines/p.yaml", text);
    const result = await loadPipeline(file, project.settings());
    if (!result.ok) throw new Error(JSON.stringify(result.failure));
    return result.value;
  }

  it("expands shorthands, merges agents and reads templates in", async () => {
    project.write("orchestrator.yaml", "agent: { kind: command, run: default-agent, env: { A: '1' } }\nmax_attempts: 4\nuses: ./rules/base.yaml\n");
    project.write("rules/base.yaml", "name: base\nversion: 1\nrules: []\n");
    project.write("node_modules/@orc/rules/package.json", JSON.stringify({ name: "@orc/rules", version: "1.0.0" }));
    project.write("node_modules/@orc/rules/pack.yaml", "name: orc-rules\nversion: 2.0.0\nrules:\n  - { id: big, when: changes.count > 9, action: warn }\n");
    project.write("templates/implement.liquid", "Implement {{ task.id }}.\n");
    const retry = project.write("templates/retry.liquid", "Try again: {{ prompt }}\n");
    const pipeline = await load(
      [
        "version: 1",
        "agent: { timeout: 5m, env: { B: '2' } }",
        "defaults: { gates: tests, priority: 2 }",
        "concurrency: 3",
        "gates:",
        '  tests: "npm test"',
        "  lint: { run: npm run lint, timeout: 90s, report: { format: junit, path: out/lint.xml } }",
        "retry_template: templates/retry.liquid",
        "uses: [./rules/base.yaml, '@orc/rules', 'https://example.com/rules.git']",
        "tasks:",
        "  - id: design",
        "    prompt: Write the design.",
        "    protect: docs/**",
        "  - id: implement",
        "    needs: design",
        "    template: templates/implement.liquid",
        "    gates: [tests, lint]",
        "    max_attempts: 2",
        "    agent: { run: special-agent, inactivity_timeout: 30s }",
        "  - id: ship",
        "    needs: [design, implement]",
        "    prompt: Ship it.",
        "    gates: []",
        "    priority: -1",
        "breakpoints:",
        "  - { id: big, when: changes.lines_changed > 800, action: pause, message: Look first }",
        "",
      ].join("\n"),
    );
    const file = project.path("pipelines", "p.yaml");
    const agent = { kind: "command", run: "default-agent", timeoutMs: 5 * MIN, inactivityTimeoutMs: 10 * MIN, env: { A: "1", B: "2" }, options: {} };
    expect(pipeline).toEqual({
      version: 1,
      name: "p",
      file,
      dir: project.dir,
      agent,
      concurrency: 3,
      gates: {
        tests: { kind: "command", id: "tests", run: "npm test", timeoutMs: 10 * MIN },
        lint: { kind: "command", id: "lint", run: "npm run lint", timeoutMs: 90_000, report: { format: "junit", path: "out/lint.xml" } },
      },
      tasks: [
        {
          id: "design",
          prompt: { path: `${file}#tasks.design.prompt`, source: "Write the design." },
          needs: [],
          gates: ["tests"],
          maxAttempts: 4,
          priority: 2,
          protect: ["docs/**"],
          agent,
        },
        {
          id: "implement",
          prompt: { path: project.path("templates", "implement.liquid"), source: "Implement {{ task.id }}.\n" },
          needs: ["design"],
          gates: ["tests", "lint"],
          maxAttempts: 2,
          priority: 2,
          protect: [],
          agent: { ...agent, run: "special-agent", inactivityTimeoutMs: 30_000 },
        },
        {
          id: "ship",
          prompt: { path: `${file}#tasks.ship.prompt`, source: "Ship it." },
          needs: ["design", "implement"],
          gates: [],
          maxAttempts: 4,
          priority: -1,
          protect: [],
          agent,
        },
      ],
      breakpoints: [{ id: "big", when: "changes.lines_changed > 800", action: "pause", message: "Look first" }],
      retryTemplate: { path: retry, source: "Try again: {{ prompt }}\n" },
      uses: [project.path("rules", "base.yaml"), "@orc/rules", "https://example.com/rules.git"],
      // The pipeline's breakpoint replaces the pack's rule of the same id; the git pack is not fetched by default.
      rules: [{ id: "big", when: "changes.lines_changed > 800", action: "pause", message: "Look first", hook: "after_attempt", source: "pipeline" }],
      packs: [
        { name: "base", version: "1", source: project.path("rules", "base.yaml"), kind: "local", file: project.path("rules", "base.yaml") },
        { name: "orc-rules", version: "2.0.0", source: "@orc/rules", kind: "package", file: project.path("node_modules", "@orc", "rules", "pack.yaml") },
      ],
    });
  });

  it("uses the shipped retry template and the file name by default; `agent: KIND` is short for {kind: KIND}", async () => {
    const pipeline = await load("agent: command\ntasks: [{ id: a, prompt: x, agent: { kind: command, run: go } }]\n");
    const shipped = fileURLToPath(new URL("../templates/retry.liquid", import.meta.url));
    expect(pipeline.retryTemplate).toEqual({ path: shipped, source: readFileSync(shipped, "utf8") });
    expect(pipeline.name).toBe("p");
    expect(pipeline.tasks[0]?.agent.run).toBe("go");
  });

  it("merges env and options key by key", async () => {
    const pipeline = await load("agent: { run: a, options: { x: 1 } }\ntasks: [{ id: a, prompt: x, agent: { options: { y: 2 } } }]\n");
    expect(pipeline.tasks[0]?.agent.options).toEqual({ x: 1, y: 2 });
  });

  it("does not carry run and options over to a different agent kind", () => {
    // Only `command` exists in this build, so the rule is checked on the merge itself.
    const base = { kind: "command", run: "a", timeoutMs: 1, inactivityTimeoutMs: 2, env: { A: "1" }, options: { x: 1 } };
    expect(mergeAgent(base, { kind: "codex", options: { y: 2 } })).toEqual({
      kind: "codex",
      timeoutMs: 1,
      inactivityTimeoutMs: 2,
      env: { A: "1" },
      options: { y: 2 },
    });
  });

  it("resolves relative paths against the project root, else the pipeline's directory", async () => {
    project.write("orchestrator.yaml", "agent: { run: x }\n");
    project.write("pipelines/local.liquid", "local\n");
    project.write("templates/root.liquid", "root\n");
    const pipeline = await load("tasks:\n  - { id: a, template: templates/root.liquid }\n  - { id: b, template: local.liquid }\n");
    expect(pipeline.tasks.map((t) => t.prompt.source)).toEqual(["root\n", "local\n"]);
  });

  it("returns every diagnostic as a config failure", async () => {
    const file = project.write("p.yaml", "tasks: [{ id: a, prompt: x, needs: [b] }]\n");
    const result = await loadPipeline(file, project.settings());
    expect(result.ok).toBe(false);
    if (result.ok || result.failure.reason !== "config") return;
    expect(result.failure.diagnostics.map((d) => d.code)).toEqual(["missing-run", "unknown-need"]);
  });

  it("loads the repository's demo pipeline", async () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const settings = loadSettings({ cwd: root, env: { HOME: "/home/someone" } });
    if (!settings.ok) throw new Error("settings");
    const result = await loadPipeline(join(root, "pipelines", "demo.yaml"), settings.value);
    expect(result.ok).toBe(true);
  });

  it("classifies uses: entries", () => {
    expect(["./r.yaml", "../r.yaml", "/abs/r.yaml", "rules/r.yml", "@orc/rules", "orc-rules", "git@github.com:o/r.git", "https://x/r"].map(useKind)).toEqual([
      "local",
      "local",
      "local",
      "local",
      "package",
      "package",
      "git",
      "git",
    ]);
  });
});
