import { randomBytes } from "node:crypto";

/** Run ids sort by creation time and stay short enough to type: `r-20261124-021530-a1b2c3`. */
export function newRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  return `r-${stamp}-${randomBytes(3).toString("hex")}`;
}
