import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Settings } from "../core/pipeline.js";
import type { Result } from "../core/result.js";
import type { Failure } from "../core/failure.js";
import { loadSettings } from "../config/index.js";
import type { StateStore } from "../state/port.js";
import type { Io } from "./io.js";

export interface GlobalOptions {
  readonly config?: string;
}

export function settingsFor(io: Io, options: GlobalOptions): Result<Settings, Failure> {
  return loadSettings({ cwd: io.cwd, env: io.env, ...(options.config !== undefined ? { configFile: options.config } : {}) });
}

/** Opens the store lazily so that commands which need no state never load better-sqlite3. */
export async function openStore(settings: Settings, options: { readonly readonly: boolean }): Promise<StateStore | undefined> {
  if (options.readonly && !existsSync(join(settings.stateDir, "state.db"))) return undefined;
  const { openStateStore } = await import("../state/sqlite-store.js");
  return openStateStore(settings.stateDir, { readonly: options.readonly });
}
