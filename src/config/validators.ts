/**
 * The ajv validate function of each schema. `npm run build` precompiles them (bin/build-validators.js writes
 * dist/config/validators/NAME.cjs with ajv's standalone code), which saves loading ajv's compiler and compiling the
 * pipeline schema on every run (~110 ms). The precompiled code is used only when it was compiled from exactly the
 * schema file orc reads now; otherwise (tests running src/, a schema regenerated since the build) the schema is
 * compiled here with the same options, so the checks are the same either way.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Options, ValidateFunction } from "ajv";
import type { SchemaName } from "./schema/constants.js";
import { schemaData, schemaText } from "./schema-file.js";

/** The options of every ajv that checks orc's files, precompiled or not. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true } as const satisfies Options;

/** Where the build writes the precompiled validators, `NAME.cjs` in a folder next to this module (absent from src/). */
export const PRECOMPILED_DIR = "validators/";

/** A precompiled module (one per schema, so that a command loads only those it uses). */
export interface Precompiled {
  readonly validate: ValidateFunction;
  /** The text of the schema file it was compiled from. */
  readonly source: string;
}

// ajv and the precompiled module are CommonJS; `require` loads them synchronously (loadSettings is synchronous).
const require = createRequire(import.meta.url);
let compiler: { compile(schema: object): ValidateFunction } | undefined;
const cache = new Map<SchemaName, ValidateFunction>();

/** The validate function for schema `name`, made on first use: commands that read no YAML never pay for it. */
export function validatorFor(name: SchemaName): ValidateFunction {
  let validate = cache.get(name);
  if (validate === undefined) {
    validate = fromBuild(name) ?? compileNow(name);
    cache.set(name, validate);
  }
  return validate;
}

function fromBuild(name: SchemaName): ValidateFunction | undefined {
  // `../config/`: the same folder from dist/config/ (tsc's output) and from dist/bundle/ (the bundled CLI).
  const file = fileURLToPath(new URL(`../config/${PRECOMPILED_DIR}${name}.cjs`, import.meta.url));
  if (!existsSync(file)) return undefined;
  const precompiled = require(file) as Precompiled;
  return precompiled.source === schemaText(name) ? precompiled.validate : undefined;
}

function compileNow(name: SchemaName): ValidateFunction {
  if (compiler === undefined) {
    const { Ajv } = require("ajv") as typeof import("ajv");
    compiler = new Ajv(AJV_OPTIONS);
  }
  return compiler.compile(schemaData(name));
}
