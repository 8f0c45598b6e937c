// Type-aware lint over the TypeScript in src/ and tests/ (one config; `npm run lint`). Plain JS entry points,
// benches and fixtures get the untyped recommended rules.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const nodeGlobals = { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", setInterval: "readonly", clearTimeout: "readonly" };

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "**/*.d.ts", "bench/results/**"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unnecessary-condition": ["error", { allowConstantLoopConditions: true }],
      "no-console": "error",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], languageOptions: { globals: nodeGlobals } },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { ...nodeGlobals, require: "readonly", module: "writable" } } },
  { files: ["tests/**", "src/cli/**"], rules: { "no-console": "off" } },
);
