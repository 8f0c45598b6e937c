import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPipeline } from "../src/config/index.js";
import { Project } from "./config-project.js";

describe("config: transport", () => {
  let project: Project;
  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => {
    project.cleanup();
  });

  const TASKS = "agent: {run: go}\ntasks: [{ id: a, prompt: x }]\n";

  async function transportOf(pipeline: string): Promise<unknown> {
    project.write("p.yaml", pipeline);
    const result = await loadPipeline(project.path("p.yaml"), project.settings());
    if (!result.ok) throw new Error(JSON.stringify(result.failure));
    return result.value.transport;
  }

  it("is left unsaid when nothing names one (orc apply chooses: e2e-default-transport); `sandbox` is short for its defaults (network on, nothing of the home, no extra variables)", async () => {
    expect(await transportOf(TASKS)).toBeUndefined();
    expect(await transportOf(`transport: sandbox\n${TASKS}`)).toEqual({ kind: "sandbox", network: true, home: [], env: [] });
  });

  it("a pipeline inherits orchestrator.yaml's transport, or replaces it whole", async () => {
    project.write("orchestrator.yaml", "transport: {kind: sandbox, network: off, home: ['~/.claude.json', .config/x/], env: [KEY, KEY]}\n");
    expect(await transportOf(TASKS)).toEqual({ kind: "sandbox", network: false, home: [".claude.json", ".config/x"], env: ["KEY"] });
    expect(await transportOf(`transport: {kind: sandbox}\n${TASKS}`)).toEqual({ kind: "sandbox", network: true, home: [], env: [] });
    expect(await transportOf(`transport: local\n${TASKS}`)).toEqual({ kind: "local" });
  });

  it("refuses unknown kinds, home paths outside the home, and bad variable names, each where it was written", async () => {
    project.write("p.yaml", `transport: vm\n${TASKS}`);
    project.write("q.yaml", `transport:\n  kind: sandbox\n  home: [/etc, ../x, ok]\n${TASKS}`);
    project.write("r.yaml", `transport:\n  kind: sandbox\n  env: [1BAD]\n${TASKS}`);
    const { text } = await project.diagnostics("p.yaml", "q.yaml", "r.yaml");
    expect(text).toMatch(/p\.yaml:1:12: error: [^\n]*(local|sandbox)/);
    expect(text).toContain('q.yaml:3:10: error: home path "/etc" must name something inside your home');
    expect(text).toContain('q.yaml:3:16: error: home path "../x" must name something inside your home');
    expect(text).toContain('r.yaml:3:9: error: transport.env[0] must match ^[A-Za-z_][A-Za-z0-9_]*$ (found "1BAD")');
  });

  it("docker: the image is required; limits default to 2g of memory, 2 CPUs and 512 processes, the network to none", async () => {
    expect(await transportOf(`transport: {kind: docker, image: orc-agent}\n${TASKS}`)).toEqual({
      kind: "docker",
      image: "orc-agent",
      network: "none",
      memory: 2 * 1024 ** 3,
      cpus: 2,
      pids: 512,
      env: [],
    });
    const set = "transport: {kind: docker, image: a:1, network: host, memory: 512m, cpus: 1.5, pids: 64, user: agent, env: [K, K], socket: /run/d.sock}";
    expect(await transportOf(`${set}\n${TASKS}`)).toEqual({
      kind: "docker",
      image: "a:1",
      network: "host",
      memory: 512 * 1024 ** 2,
      cpus: 1.5,
      pids: 64,
      user: "agent",
      env: ["K"],
      socket: "/run/d.sock",
    });
    expect(await transportOf(`transport: {kind: docker, image: a, network: on}\n${TASKS}`)).toMatchObject({ network: "default" });
  });

  it("docker: a missing image, a bad memory size or limit, and an ignored home are reported where they were written", async () => {
    project.write("p.yaml", `transport: docker\n${TASKS}`);
    project.write("q.yaml", `transport:\n  kind: docker\n  image: a\n  memory: lots\n${TASKS}`);
    project.write("r.yaml", `transport:\n  kind: docker\n  image: a\n  pids: 0\n  cpus: -1\n${TASKS}`);
    project.write("s.yaml", `transport:\n  kind: docker\n  image: a\n  home: [.x]\n${TASKS}`);
    const { text } = await project.diagnostics("p.yaml", "q.yaml", "r.yaml", "s.yaml");
    expect(text).toContain("p.yaml:1:12: error: transport docker needs an image");
    expect(text).toContain('q.yaml:4:11: error: memory "lots" must be a size of at least 6m, e.g. 512m or 2g');
    expect(text).toContain("r.yaml:4:9: error: transport.pids must be at least 1 (found 0)");
    expect(text).toContain("r.yaml:5:9: error: transport.cpus must be more than 0 (found -1)");
    expect(text).toContain('s.yaml:4:3: warning: "home" has no effect on the docker transport');
  });

  it("ssh: host required; port 22, known_hosts ~/.ssh/known_hosts and no key (the ssh-agent) by default; a relative key resolves against the file", async () => {
    expect(await transportOf(`transport: {kind: ssh, host: box.lan}\n${TASKS}`)).toEqual({ kind: "ssh", host: "box.lan", port: 22, knownHosts: "~/.ssh/known_hosts", env: [] });
    const fp = `SHA256:${"a".repeat(43)}`;
    const full = `transport: {kind: ssh, host: h, port: 2222, user: dev, key: keys/id, passphrase_env: KEY_PASS, known_hosts: ~/kh, fingerprint: "${fp}", workspace: ~/ws/, env: [TOKEN]}\n`;
    expect(await transportOf(full + TASKS)).toEqual({
      kind: "ssh", host: "h", port: 2222, user: "dev", key: project.path("keys/id"), passphraseEnv: "KEY_PASS", knownHosts: "~/kh", fingerprint: fp, workspace: "~/ws", env: ["TOKEN"],
    });
  });

  it("ssh: a missing host, a malformed fingerprint, a workspace that is the home, and a bad port, each where it was written", async () => {
    project.write("p.yaml", `transport: ssh\n${TASKS}`);
    project.write("q.yaml", `transport:\n  kind: ssh\n  host: h\n  fingerprint: "MD5:aa:bb"\n  workspace: "~"\n${TASKS}`);
    project.write("r.yaml", `transport: {kind: ssh, host: h, port: 70000}\n${TASKS}`);
    const { text } = await project.diagnostics("p.yaml", "q.yaml", "r.yaml");
    expect(text).toContain("p.yaml:1:12: error: transport ssh needs a host");
    expect(text).toContain('q.yaml:4:16: error: fingerprint "MD5:aa:bb" is not a SHA256 host key fingerprint');
    expect(text).toContain('q.yaml:5:14: error: workspace "~" must be a dedicated directory');
    expect(text).toContain("r.yaml:1:39: error: transport.port must be at most 65535 (found 70000)");
  });
});
