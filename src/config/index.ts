/** config/: load, position-map, validate and normalise orc's YAML files. What the rest of orc imports from here. */
export { loadSettings, type SettingsOptions } from "./settings.js";
export { defaultStateDir, insideProject, LEGACY_STATE_DIR, locateState, PROJECT_NOTE, projectNote, type StateLocation } from "./state-location.js";
export { loadPipeline, type LoadOptions } from "./pipeline.js";
export { validateFiles, type Validation } from "./validate.js";
export { formatDiagnostic } from "../core/diagnostic-format.js";
export { useKind, type UseKind } from "./packs/uses.js";
export { readRulePack, type LoadedRulePack } from "./packs/read.js";
export { shippedPack } from "./packs/locate.js";
export type { GitRunner } from "./packs/git.js";
export { readYamlFile, type YamlFile } from "./yaml-file.js";
