import { parseDuration } from "../core/duration.js";
import { describePath, q, type Path } from "./describe.js";
import type { Scope } from "./scope.js";

/** A duration field in milliseconds, or undefined (reported as `bad-duration` when it was written but is not one). */
export function durationMs(value: string | number | undefined, path: Path, scope: Scope): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) {
    const shown = typeof value === "string" ? q(value) : String(value);
    scope.out.error(
      "bad-duration",
      `${describePath(scope.root, path)} ${shown} is not a duration (write e.g. 90s, 10m, 1h30m, 500ms, or a number of seconds)`,
      path,
    );
  }
  return ms;
}
