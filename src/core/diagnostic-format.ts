import { relative } from "node:path";
import type { Diagnostic } from "./diagnostic.js";

/**
 * Compiler-style text for one diagnostic: `file:line:col: severity: message`, then the source line with the span
 * underlined. The file is shown relative to `cwd`; without `source` (unreadable or binary file) only the first line.
 *
 *     pipelines/feature.yaml:14:12: error: task "implement" needs unknown task "desing" (did you mean "design"?)
 *        14 |     needs: [desing]
 *           |            ^^^^^^
 */
export function formatDiagnostic(d: Diagnostic, source: string | undefined, cwd: string): string {
  const file = relative(cwd, d.file) || d.file;
  const head = `${file}:${d.line}:${d.col}: ${d.severity}: ${visible(d.message)}`;
  const text = source === undefined ? undefined : sourceLine(source, d.line);
  if (text === undefined) return head;
  const shown = visible(text).trimEnd();
  const number = String(d.line);
  const gutter = " ".repeat(3 + number.length);
  const start = Math.min(d.col - 1, shown.length);
  const width = Math.max(1, Math.min(d.length, shown.length - start));
  // Keep tabs in the indent so the carets line up under tab-indented text.
  const indent = shown.slice(0, start).replace(/[^\t]/g, " ");
  return [head, `   ${number} |${shown === "" ? "" : ` ${shown}`}`, `${gutter} | ${indent}${"^".repeat(width)}`].join("\n");
}

function sourceLine(source: string, line: number): string | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const next = source.indexOf("\n", start);
    if (next === -1) return undefined;
    start = next + 1;
  }
  const end = source.indexOf("\n", start);
  const text = source.slice(start, end === -1 ? source.length : end);
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}

/** Control characters would let a hostile file drive the terminal: each becomes one visible character (columns stay put). */
function visible(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += (code < 0x20 && code !== 0x09) || (code >= 0x7f && code < 0xa0) ? "\uFFFD" : ch;
  }
  return out;
}
