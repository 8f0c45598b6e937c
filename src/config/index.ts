/** config/: load, position-map, validate and normalise orc's YAML files. What the rest of orc imports from here. */
export { loadSettings, type SettingsOptions } from "./settings.js";
export { defaultStateDir, insideProject, LEGACY_STATE_DIR, locateState, PROJECT_NOTE, projectNote, type StateLocation } from "./state-location.js";
export { loadPipeline } from "./pipeline.js";
export { validateFiles, type Validation } from "./validate.js";
export { formatDiagnostic } from "../core/diagnostic-format.js";
export { useKind, type UseKind } from "./uses.js";
export { readRulePack, type LoadedRulePack } from "./rule-pack.js";
export { readYamlFile, type YamlFile } from "./yaml-file.js";
export { locatePack, locatePackage, shippedPack, SHIPPED_RULES_DIR, type LocatedPack } from "./pack-locate.js";
export { mergePackGates, packTemplates } from "./pack-gates.js";
export { PACK_TEMPLATE } from "./templates.js";
