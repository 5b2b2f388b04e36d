// Type-aware lint: tswren is an async orchestrator, and a dropped promise is a hang.
import { builtinRules } from "eslint/use-at-your-own-risk";
import tseslint from "typescript-eslint";

const coreMaxLinesPerFunction = builtinRules.get("max-lines-per-function");

/** The name a call starts from: `describe` for `describe(...)`, `describe.each(rows)(...)`, `describe.skip(...)`. */
function calleeRoot(callee) {
  let node = callee;
  while (node.type === "MemberExpression" || node.type === "CallExpression") node = node.type === "MemberExpression" ? node.object : node.callee;
  return node.type === "Identifier" ? node.name : "";
}

/**
 * `max-lines-per-function`, except for the callback of a `describe(...)`: that is a list of
 * tests, not logic; every test (`it` callback) and helper inside it is still held to the limit.
 */
const maxLinesPerFunction = {
  meta: coreMaxLinesPerFunction.meta,
  create(context) {
    const isSuiteBody = (node) => node.parent?.type === "CallExpression" && node.parent.arguments.includes(node) && calleeRoot(node.parent.callee) === "describe";
    const filtered = Object.create(context, {
      report: { value: (descriptor) => { if (!isSuiteBody(descriptor.node)) context.report(descriptor); } },
    });
    return coreMaxLinesPerFunction.create(filtered);
  },
};

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "bench/**", "notebooks/**", "extension/lib/**", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["vitest.config.ts"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unnecessary-condition": "off",
      "@typescript-eslint/no-unsafe-function-type": "off",
      "@typescript-eslint/no-extraneous-class": "off",
    },
  },
  {
    // Small pieces (STYLE.md 6): files under 400 lines, functions under 60.
    plugins: { tswren: { rules: { "max-lines-per-function": maxLinesPerFunction } } },
    rules: {
      "max-lines": ["error", { max: 400 }],
      "tswren/max-lines-per-function": ["error", { max: 60 }],
    },
  },
  {
    // Library code raises coded errors (STYLE.md 3): a bare Error would read as the user's fault.
    files: ["kernel-lib/src/**/*.ts", "runtime/src/**/*.ts"],
    ignores: ["kernel-lib/src/errors.ts"],
    rules: {
      "no-restricted-syntax": ["error",
        { selector: "NewExpression[callee.name=/^(Error|TypeError|RangeError)$/]", message: "throw a coded TswrenError (kernel-lib/src/errors.ts), or use asError() to wrap an unknown value" },
        { selector: "CallExpression[callee.name=/^(Error|TypeError|RangeError)$/]", message: "throw a coded TswrenError (kernel-lib/src/errors.ts)" },
      ],
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-empty-function": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-confusing-void-expression": "off",
    },
  },
);
