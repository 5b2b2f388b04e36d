import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    globalSetup: ["./test/global-setup.ts"],
    reporters: ["default"],
    // JupyterLab's packages (used by the extension's unit tests) ship ESM with extension-less
    // imports that Node cannot load; let Vite transform them.
    server: { deps: { inline: [/@jupyter\/web-components/, /@jupyterlab\//, /@lumino\//] } },
  },
});
