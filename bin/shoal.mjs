#!/usr/bin/env node
// Entry point of the `shoal` command. Registers tsx so that user modules
// written in TypeScript (jobs, task modules) load without a build step,
// then hands over to the compiled CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
