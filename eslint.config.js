import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".cluster/**", "test/fixtures/build/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // process.env is read in one module only (src/config.ts)
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "read settings through src/config.ts" }],
    },
  },
  { files: ["src/config.ts", "test/**", "bench/**", "scripts/**"], rules: { "no-restricted-properties": "off" } },
  // The review path copies pods with copyOf (src/copy.ts says why spreads cost a mark-compact).
  {
    files: ["src/admission/mutate.ts", "src/policy/resources.ts"],
    rules: { "no-restricted-syntax": ["error", { selector: "ObjectExpression > SpreadElement", message: "copy with copyOf() from src/copy.ts: object spreads here are promoted to the old generation (see its comment)" }] },
  },
);
