#!/usr/bin/env node
// A SCRIPTED stand-in for a coding agent, used only by orc's demo: it reads orc's prompt on stdin and applies the
// edits scripted for (task, attempt) in script.json. Attempt 1 of `subtract` is deliberately wrong so that the demo
// shows a gate failing and the retry prompt carrying the evidence.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

const here = dirname(new URL(import.meta.url).pathname);
const script = JSON.parse(readFileSync(join(here, "script.json"), "utf8"));
const task = process.env.ORC_TASK_ID;
const attempt = Number(process.env.ORC_ATTEMPT);
const prompt = readFileSync(0, "utf8");

const steps = script[task] ?? [];
const step = steps[Math.min(attempt, steps.length) - 1];
if (step === undefined) {
  console.log(`no scripted step for ${task}`);
  process.exit(1);
}
if (attempt > 1 && !prompt.includes("was not accepted")) {
  console.log("expected the retry prompt to explain why the last attempt was rejected");
  process.exit(1);
}
for (const [file, lines] of Object.entries(step.write ?? {})) {
  const path = join(process.cwd(), file);
  mkdirSync(dirname(path), { recursive: true });
  const text = Array.isArray(lines) ? lines.join("\n") + "\n" : String(lines);
  const append = (step.append ?? []).includes(file);
  writeFileSync(path, append ? readFileSync(path, "utf8") + text : text);
}
console.log(step.say);
