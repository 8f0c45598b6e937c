import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../src/core/diagnostic.js";
import { formatDiagnostic } from "../src/config/index.js";

const at = (line: number, col: number, length: number, message = "boom"): Diagnostic => ({
  file: "/work/p/pipelines/x.yaml",
  line,
  col,
  length,
  severity: "error",
  code: "test",
  message,
});

describe("config: formatDiagnostic", () => {
  it("sizes the gutter to the line number and underlines the span", () => {
    const source = `${"a: 1\n".repeat(1199)}tasks:   [b, c]   \n`;
    expect(formatDiagnostic(at(1200, 10, 6), source, "/work/p")).toBe(
      ["pipelines/x.yaml:1200:10: error: boom", "   1200 | tasks:   [b, c]", "        |          ^^^^^^"].join("\n"),
    );
    expect(formatDiagnostic(at(3, 1, 1), "a\nb\nc\n", "/work/p")).toBe(["pipelines/x.yaml:3:1: error: boom", "   3 | c", "     | ^"].join("\n"));
  });

  it("leaves no trailing spaces, and cuts a span at the end of the line", () => {
    const text = formatDiagnostic(at(1, 4, 50), "ab cd   \r\nnext\n", "/work");
    expect(text).toBe(["p/pipelines/x.yaml:1:4: error: boom", "   1 | ab cd", "     |    ^^"].join("\n"));
    expect(formatDiagnostic(at(2, 1, 1), "a\n\nb\n", "/work/p")).toBe(["pipelines/x.yaml:2:1: error: boom", "   2 |", "     | ^"].join("\n"));
  });

  it("keeps tabs in the indent so carets line up", () => {
    expect(formatDiagnostic(at(1, 3, 2), "\t\tid: x\n", "/work/p")).toBe(["pipelines/x.yaml:1:3: error: boom", "   1 | \t\tid: x", "     | \t\t^^"].join("\n"));
  });

  it("prints only the first line without a source, or for a line past its end", () => {
    expect(formatDiagnostic(at(1, 1, 1), undefined, "/work/p")).toBe("pipelines/x.yaml:1:1: error: boom");
    expect(formatDiagnostic(at(9, 1, 1), "a: 1\n", "/work/p")).toBe("pipelines/x.yaml:9:1: error: boom");
  });

  it("shows a file outside cwd relative to it, and a warning as such", () => {
    expect(formatDiagnostic({ ...at(1, 1, 1), severity: "warning" }, undefined, "/work/q")).toBe("../p/pipelines/x.yaml:1:1: warning: boom");
  });

  it("never lets control characters from the file or the message reach the terminal", () => {
    const text = formatDiagnostic(at(1, 7, 3, "bad \u001b]0;x\u0007"), "name: \u001b[2Jred\n", "/work/p");
    expect(text).toBe(["pipelines/x.yaml:1:7: error: bad \uFFFD]0;x\uFFFD", "   1 | name: \uFFFD[2Jred", "     |       ^^^"].join("\n"));
  });
});
