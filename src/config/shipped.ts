import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The rule packs shipped with orc, in `rules/` of its package. This module sits one folder below the package root's
 * children in src/ (src/config/), dist/ (dist/config/) and the bundle (dist/bundle/) alike, so one relative path works.
 */
export const SHIPPED_RULES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "rules");
