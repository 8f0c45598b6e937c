import { agentClis } from "./agent-clis.js";
import type { DoctorCheck } from "./check.js";
import { gitPresent } from "./git.js";
import { llmLoads } from "./llm.js";
import { nodeVersion } from "./node-version.js";
import { stateDirWritable } from "./state-dir.js";
import { transportCheck } from "./transport.js";

/** Every check `orc doctor` runs, in order. A new check is one file and one entry here. */
export const CHECKS: readonly DoctorCheck[] = [nodeVersion, gitPresent, stateDirWritable, llmLoads, agentClis, transportCheck];
