/**
 * Random hex digits for ids. Ids are names to type and to tell runs apart, not secrets, so Math.random (seeded from
 * the OS by V8) is enough; node:crypto would cost every `orc apply` ~3 ms of module loading before the first agent.
 */
export function randomHex(bytes: number): string {
  let hex = "";
  for (let i = 0; i < bytes; i++) hex += Math.floor(Math.random() * 256).toString(16).padStart(2, "0");
  return hex;
}

/** Run ids sort by creation time and stay short enough to type: `r-20261124-021530-a1b2c3`. */
export function newRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  return `r-${stamp}-${randomHex(3)}`;
}
