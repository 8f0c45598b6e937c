import { join } from "node:path";
import type { Settings } from "../core/pipeline.js";
import { ShadowGit } from "../state/checkpoints.js";
import { LocalTransport } from "../transports/local.js";
import type { Transport } from "../transports/port.js";

/** The run's shadow git store, with the checkpoint its first attempt starts from when the run watches for changes. */
export interface CheckpointStart {
  readonly git: ShadowGit;
  readonly transport: Transport;
  /** The workspace's tree as the run found it; undefined without a change watcher (tasks side by side). */
  readonly firstTree: Promise<string | undefined>;
  /** Stops git when the run will not start after all (so `orc apply` does not wait for it to end). */
  readonly cancel: () => void;
}

/**
 * Starts `git init` and the first checkpoint (one process: ShadowGit.initAndSnapshot) as soon as a run knows its
 * workspace: `apply` calls it after validation, before the state store opens, so git works while the store opens
 * and the run is recorded, instead of after. Nothing is written for a pipeline that does not validate.
 */
export function startCheckpoints(settings: Settings, workspace: string, watching: boolean): CheckpointStart {
  const transport = new LocalTransport();
  const git = new ShadowGit({ storeDir: join(settings.stateDir, "checkpoints.git"), workspace, stateDir: settings.stateDir, transport });
  const stop = new AbortController();
  const firstTree = watching ? git.initAndSnapshot(stop.signal) : git.init().then(() => undefined);
  // Awaited by the run (src/cli/run-deps.ts); a run that never starts cancels it and ignores how it ended.
  firstTree.catch(() => undefined);
  return {
    git,
    transport,
    firstTree,
    cancel: () => {
      stop.abort();
    },
  };
}
