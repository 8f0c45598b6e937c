// (b) `orc --version` vs `node -e 0`: what a user pays before orc does anything.
import { compare, timeCommand } from "./lib.mjs";

export function run({ orc, runs = 15 }) {
  const result = compare({
    runs,
    warmup: 2,
    subject: { run: () => timeCommand(process.execPath, [orc, "--version"]) },
    floor: { run: () => timeCommand(process.execPath, ["-e", "0"]) },
  });
  return { name: "version", ...result, target: "<= 1.5x" };
}
