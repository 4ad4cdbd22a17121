#!/usr/bin/env node
// The `gpu-cnn` command (package.json "bin"): runs the CLI that `npm run build` bundles into
// dist/cli.js. From a source checkout without a build, run
//   node --import tsx --import ./scripts/wgsl.mjs src/cli/main.ts <command> ...
let cli;
try {
  cli = await import("../dist/cli.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("cli.js")) throw error;
  process.stderr.write("gpu-cnn: the command is not built yet (dist/cli.js is missing); run `npm run build` first\n");
  process.exit(1);
}
await cli.main();
