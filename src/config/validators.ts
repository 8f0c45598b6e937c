/**
 * The ajv validate function of each schema. `npm run build` precompiles them (bin/build-validators.js writes
 * dist/config/validators.cjs with ajv's standalone code), which saves loading ajv's compiler and compiling the
 * pipeline schema on every run (~110 ms). The precompiled code is used only when it was compiled from exactly the
 * schema file orc reads now; otherwise (tests running src/, a schema regenerated since the build) the schema is
 * compiled here with the same options, so the checks are the same either way.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
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
  const precompiled = loadPrecompiled(file);
  return precompiled.source === schemaText(name) ? precompiled.validate : undefined;
}

/** The file beside a precompiled validator that holds V8's code cache for it (written by bin/build-validators.js). */
export const codeCacheFile = (file: string): string => `${file}.v8cache`;

/**
 * A precompiled validator module, run the way `require` runs a CommonJS file. With `cachedData` (V8's code cache
 * for exactly this source), V8 skips compiling the functions the cache holds: the build makes it after validating
 * orc's own files, so the first check of a run does not compile ajv's large generated functions (~4 ms). A cache
 * from another Node version or other V8 flags is rejected by V8 itself, and the code is compiled as usual.
 */
export function precompiledScript(file: string, cachedData?: Buffer): { readonly script: Script; readonly load: () => Precompiled } {
  const script = new Script(`(function (exports, require, module) {${readFileSync(file, "utf8")}\n})`, { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  const load = (): Precompiled => {
    const module = { exports: {} };
    (script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }) => void)(module.exports, createRequire(file), module);
    return module.exports as Precompiled;
  };
  return { script, load };
}

function loadPrecompiled(file: string): Precompiled {
  const cache = codeCacheFile(file);
  if (!existsSync(cache)) return require(file) as Precompiled;
  return precompiledScript(file, readFileSync(cache)).load();
}

function compileNow(name: SchemaName): ValidateFunction {
  if (compiler === undefined) {
    const { Ajv } = require("ajv") as typeof import("ajv");
    compiler = new Ajv(AJV_OPTIONS);
  }
  return compiler.compile(schemaData(name));
}
