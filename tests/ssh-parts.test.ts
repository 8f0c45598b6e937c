import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ControlRecords } from "../src/transports/ssh/control-records.js";
import { fingerprintOf, judgeHostKey, knownKeys } from "../src/transports/ssh/known-hosts.js";
import { envLine, shq } from "../src/transports/ssh/quote.js";
import { wrapperCommand, wrapperLine, wrapperPattern } from "../src/transports/ssh/wrapper.js";

/** The ssh transport's pieces that decide security: known_hosts matching, quoting, the wrapper's control records. */
describe("ssh: known_hosts as OpenSSH writes it", () => {
  const dir = mkdtempSync(join(tmpdir(), "orc-known-"));
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
  const key = (name: string): { line: string; blob: Buffer } => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]);
    const [type, b64] = readFileSync(join(dir, `${name}.pub`), "utf8").split(" ");
    return { line: `${type ?? ""} ${b64 ?? ""}`, blob: Buffer.from(b64 ?? "", "base64") };
  };
  const a = key("a");
  const b = key("b");

  it("matches plain names, [host]:port, wildcards and negations; the fingerprint is ssh-keygen's", () => {
    const text = [`# comment`, `example.org,10.0.0.1 ${a.line}`, `[example.org]:2222 ${b.line}`, `*.lan,!bad.lan ${a.line} comment`, ""].join("\n");
    expect(knownKeys(text, "example.org", 22).map((k) => k.blob)).toEqual([a.blob]);
    expect(knownKeys(text, "10.0.0.1", 22).map((k) => k.blob)).toEqual([a.blob]);
    expect(knownKeys(text, "example.org", 2222).map((k) => k.blob)).toEqual([b.blob]);
    expect(knownKeys(text, "box.lan", 22)).toHaveLength(1);
    expect(knownKeys(text, "bad.lan", 22)).toEqual([]);
    expect(knownKeys(text, "other.org", 22)).toEqual([]);
    const printed = execFileSync("ssh-keygen", ["-lf", join(dir, "a.pub")], { encoding: "utf8" }).split(" ")[1];
    expect(fingerprintOf(a.blob)).toBe(printed);
  });

  it("matches entries ssh-keygen -H hashed", () => {
    const file = join(dir, "hashed");
    writeFileSync(file, `[127.0.0.1]:2200 ${a.line}\nexample.org ${b.line}\n`);
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file]);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("example.org");
    expect(knownKeys(text, "127.0.0.1", 2200).map((k) => k.blob)).toEqual([a.blob]);
    expect(knownKeys(text, "example.org", 22).map((k) => k.blob)).toEqual([b.blob]);
    expect(knownKeys(text, "127.0.0.1", 22)).toEqual([]);
  });

  it("accepts the known key; refuses an unknown host, a changed key and a @revoked one; a pin overrides all but a revocation", () => {
    const known = knownKeys(`host ${a.line}\n@revoked * ${b.line}\n@cert-authority * ${b.line}\n`, "host", 22);
    expect(judgeHostKey(a.blob, known, undefined)).toEqual({ ok: true, via: "known_hosts" });
    expect(judgeHostKey(b.blob, known, undefined)).toEqual({ ok: false, reason: "revoked" });
    expect(judgeHostKey(b.blob, known, fingerprintOf(b.blob))).toEqual({ ok: false, reason: "revoked" });
    const other = knownKeys(`host ${b.line}\n`, "host", 22);
    expect(judgeHostKey(a.blob, other, undefined)).toEqual({ ok: false, reason: "changed" });
    expect(judgeHostKey(a.blob, [], undefined)).toEqual({ ok: false, reason: "unknown" });
    expect(judgeHostKey(a.blob, other, fingerprintOf(a.blob))).toEqual({ ok: true, via: "fingerprint" });
    expect(judgeHostKey(a.blob, [], fingerprintOf(b.blob))).toEqual({ ok: false, reason: "unknown" });
  });
});

describe("ssh: quoting and the wrapper's records", () => {
  it("single-quotes any value into one shell word, and the environment into one line of exports", () => {
    const nasty = `it's $(rm -rf ~) \`x\` "q" \\ ; & | \n end`;
    expect(execFileSync("sh", ["-c", `printf %s ${shq(nasty)}`], { encoding: "utf8" })).toBe(nasty);
    const line = envLine({ A: nasty, B: "plain", "BAD-NAME": "skipped" });
    expect(line.split("\n")).toHaveLength(2); // one line and its newline
    const out = execFileSync("sh", ["-c", `nl='\n'; IFS= read -r e; eval "$e"; printf '%s|%s|%s' "$A" "$B" "\${BAD_NAME:-none}"`], { input: line, encoding: "utf8" });
    expect(out).toBe(`${nasty}|plain|none`);
  });

  it("takes control records out of a stream split anywhere, and passes everything else through", () => {
    const text = `hello\n\x1eN0NCE:pid:42\nmid \x1e not a record \x1eOTHER:x\nend\x1eN0NCE:end:3:same\ntail\x1eN0NC`;
    for (let cut = 1; cut < text.length; cut++) {
      const records: string[] = [];
      const passed: string[] = [];
      const filter = new ControlRecords("N0NCE", (r) => records.push(r), (c) => passed.push(c.toString()));
      filter.write(Buffer.from(text.slice(0, cut)));
      filter.write(Buffer.from(text.slice(cut)));
      filter.end();
      expect(records).toEqual(["pid:42", "end:3:same"]);
      expect(passed.join("")).toBe("hello\nmid \x1e not a record \x1eOTHER:x\nendtail\x1eN0NC");
    }
  });

  it("the wrapper, run by a POSIX login shell or through exec /bin/sh, reports its group and the status of a command with args", () => {
    for (const direct of [true, false]) {
      for (const shell of [true, false]) {
        const line = wrapperLine(
          {
            cwd: "/tmp", workspace: "", meta: "/tmp", shell, stdin: true,
            command: shell ? `printf '%s|' "$@" "$GREETING"; read -r line; echo "$line"; exit 3` : "printf", args: shell ? ["a b", "c'd", "two\nlines"] : ["<%s>", "a b"],
          },
          { GREETING: "hi there" },
        );
        expect(line.split("\n")).toHaveLength(2); // one line and its newline, whatever the values hold
        // As sshd runs it: the login shell with -c, in a session of its own (setsid), so `kill -KILL 0` ends only it.
        const out = spawnSync("setsid", ["-w", "sh", "-c", wrapperCommand("N", direct, "/tmp/copy.orc-sync")], { input: `${line}from stdin\n`, encoding: "utf8" });
        const [pid, go, end] = out.stderr.split("\n").filter((l) => l !== "");
        expect(pid?.startsWith("\x1eN:pid:")).toBe(true);
        expect(go).toBe("\x1eN:go");
        expect(Number(pid?.slice("\x1eN:pid:".length))).toBeGreaterThan(1);
        if (shell) {
          expect(out.stdout).toBe("a b|c'd|two\nlines|hi there|from stdin\n");
          expect(end).toBe("\x1eN:end:3:same");
        } else {
          expect(out.stdout).toBe("<a b>");
          expect(end).toBe("\x1eN:end:0:same");
        }
      }
    }
  });

  it("the wrapper runs nothing when its line never comes (a channel opened ahead and closed unused)", () => {
    const out = spawnSync("setsid", ["-w", "sh", "-c", wrapperCommand("N", true, "/tmp/copy.orc-sync")], { input: "", encoding: "utf8" });
    expect(out.stderr.split("\n").filter((l) => l !== "").slice(1)).toEqual(["\x1eN:end:125:same"]); // no `go`
    expect(out.stdout).toBe("");
  });

  it("never lets the environment set the wrapper's own variables", () => {
    const line = wrapperLine({ cwd: "/tmp", workspace: "", meta: "/tmp", shell: true, stdin: false, command: 'printf "%s|%s" "$A" "${orc_x:-unset}"', args: [] }, { nl: "NL", A: "a\nb", orc_x: "set" });
    const out = spawnSync("setsid", ["-w", "sh", "-c", wrapperCommand("N", true, "/tmp/copy.orc-sync")], { input: line, encoding: "utf8" });
    expect(out.stdout).toBe("a\nb|unset");
  });

  it("finds a copy's waiting wrappers by its sync folder, and not another copy's whose path begins or ends the same", () => {
    // Bytes past ASCII, a tab, a quote: pgrep in the C locale shows the first two as `?`.
    const copy = `/tmp/x y'z-é\t${String(process.pid)}.orc-sync`;
    const start = (folder: string, direct: boolean): ReturnType<typeof spawn> => spawn("setsid", ["sh", "-c", wrapperCommand("N", direct, folder)], { stdio: ["pipe", "ignore", "ignore"] });
    const mine = [start(copy, true), start(copy, false)];
    const others = [start(`/home/u${copy}`, true), start(`${copy}'b.orc-sync`, true)];
    try {
      const pgrep = ["-u", String(process.getuid?.() ?? 0), "-f", wrapperPattern(copy)];
      const found = (): number[] => spawnSync("pgrep", pgrep, { encoding: "utf8", env: { PATH: process.env.PATH, LC_ALL: "C" } }).stdout.split("\n").filter((l) => l !== "").map(Number).sort();
      for (let i = 0; i < 100 && found().length < 2; i++) spawnSync("sleep", ["0.02"]);
      // setsid execs the wrapper's shell in place (the child is no group leader, so it need not fork): the same pids.
      expect(found()).toEqual(mine.map((c) => c.pid ?? 0).sort());
    } finally {
      for (const child of [...mine, ...others]) child.stdin?.end();
    }
  });
});
