import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Diagnostic } from "../src/core/diagnostic.js";
import type { Settings } from "../src/core/pipeline.js";
import { formatDiagnostic, loadSettings, validateFiles } from "../src/config/index.js";

/** A throwaway project directory with real files, checked the way `orc validate` checks them. */
export class Project {
  readonly dir = realpathSync(mkdtempSync(join(tmpdir(), "orc-config-")));

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  write(file: string, text: string | Uint8Array): string {
    const path = this.path(file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  /** A HOME for orc's default state directory (never created: loading settings writes nothing). */
  get env(): Record<string, string> {
    return { HOME: this.path(".home") };
  }

  settings(env: Record<string, string | undefined> = {}): Settings {
    const result = loadSettings({ cwd: this.dir, env: { ...this.env, ...env } });
    if (!result.ok) throw new Error(`settings: ${JSON.stringify(result.failure)}`);
    return result.value;
  }

  async diagnostics(...files: string[]): Promise<{ diagnostics: Diagnostic[]; text: string }> {
    const { diagnostics, sources } = await validateFiles(
      files.map((f) => this.path(f)),
      this.settings(),
    );
    const text = diagnostics.map((d) => formatDiagnostic(d, sources.get(d.file), this.dir)).join("\n");
    return { diagnostics, text };
  }

  /** Writes `file` (when `text` is given) and returns its diagnostics as `orc validate` prints them. */
  async check(file: string, text?: string | Uint8Array): Promise<string> {
    if (text !== undefined) this.write(file, text);
    return (await this.diagnostics(file)).text;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
