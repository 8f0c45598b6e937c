import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Settings } from "../core/pipeline.js";
import { ok, type Result } from "../core/result.js";
import type { Failure } from "../core/failure.js";
import { configFileFor } from "../config/find-config.js";
import { settingsWithoutFile } from "../config/settings-defaults.js";
import { PROJECT_NOTE, projectNote } from "../config/state-location.js";
import { damagedMessage, damageOf } from "../state/intact.js";
import type { StateStore } from "../state/port.js";
import { fail, type Io } from "./io.js";

export interface GlobalOptions {
  readonly config?: string;
}

/**
 * The project's settings. Without an orchestrator.yaml (and no `--config`), the defaults, with no YAML parser loaded:
 * every command starts about 15 ms sooner (src/config/settings-defaults.ts).
 */
export async function settingsFor(io: Io, options: GlobalOptions): Promise<Result<Settings, Failure>> {
  const file = configFileFor(io.cwd, options.config);
  if (file === undefined) return settingsWithoutFile({ cwd: io.cwd, env: io.env });
  const { loadSettings } = await import("../config/index.js");
  return loadSettings({ cwd: io.cwd, env: io.env, configFile: file });
}

/**
 * Opens the store lazily so that commands which need no state never load better-sqlite3. A read-only open of a
 * project that has no state yet is `undefined` (no runs), never an error, and creates nothing.
 */
export async function openStore(settings: Settings, options: { readonly readonly: boolean }): Promise<Result<StateStore | undefined, Failure>> {
  if (options.readonly && !existsSync(join(settings.stateDir, "state.db"))) return ok(undefined);
  const { openState } = await import("../state/sqlite-store.js");
  return openState(settings.stateDir, { readonly: options.readonly });
}

/** The writable store, for commands that always create one. */
export async function openWritableStore(settings: Settings): Promise<Result<StateStore, Failure>> {
  const { openState } = await import("../state/sqlite-store.js");
  const opened = openState(settings.stateDir, { readonly: false });
  if (opened.ok && settings.stateSource === "default") noteProject(settings);
  return opened;
}

/**
 * A default state directory is named by a hash: project.json in it says which project it belongs to, for a human
 * looking through ~/.local/state/orc/projects. A note only: failing to write it stops nothing.
 */
function noteProject(settings: Settings): void {
  const file = join(settings.stateDir, PROJECT_NOTE);
  if (existsSync(file)) return;
  try {
    writeFileSync(file, projectNote(settings.root), { flag: "wx" });
  } catch {
    // Another orc wrote it first, or the directory is read-only: the store itself opened, which is what counts.
  }
}

/**
 * Runs `use` with the project's state store opened read-only (undefined when the project has no state yet) and its
 * settings, and closes the store afterwards. Settings or store failures are printed and become the exit code.
 */
export async function withReadonlyStore(
  io: Io,
  options: GlobalOptions & { readonly json: boolean },
  use: (store: StateStore | undefined, settings: Settings) => Promise<number> | number,
): Promise<number> {
  const settings = await settingsFor(io, options);
  if (!settings.ok) return fail(io, settings.failure, options);
  const opened = await openStore(settings.value, { readonly: true });
  if (!opened.ok) return fail(io, opened.failure, options);
  try {
    return await use(opened.value, settings.value);
  } catch (error) {
    // Damage deeper in the file than its header shows up only when a query reaches it: the same one line.
    const damage = damageOf(error);
    if (damage === undefined) throw error;
    return fail(io, { reason: "state", message: damagedMessage(join(settings.value.stateDir, "state.db"), damage) }, options);
  } finally {
    opened.value?.close();
  }
}

/**
 * Runs `use` with the project's state store opened for writing (created if need be) and closes it afterwards.
 * Settings or store failures are printed and become the exit code.
 */
export async function withWritableStore(
  io: Io,
  options: GlobalOptions & { readonly json: boolean },
  use: (store: StateStore, settings: Settings) => Promise<number> | number,
): Promise<number> {
  const settings = await settingsFor(io, options);
  if (!settings.ok) return fail(io, settings.failure, options);
  const opened = await openWritableStore(settings.value);
  if (!opened.ok) return fail(io, opened.failure, options);
  try {
    return await use(opened.value, settings.value);
  } finally {
    opened.value.close();
  }
}
