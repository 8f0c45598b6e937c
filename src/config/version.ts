import type { Diagnostics } from "./diagnostics.js";
import { FORMAT_VERSION } from "./schema/constants.js";

/** `version:` is optional; any value but the one this orc reads is refused, so a newer file never half-works. */
export function checkVersion(version: number | undefined, out: Diagnostics): void {
  if (version === undefined || version === FORMAT_VERSION) return;
  out.error("unsupported-version", `unsupported version ${version}: this orc reads version ${FORMAT_VERSION}`, ["version"]);
}
