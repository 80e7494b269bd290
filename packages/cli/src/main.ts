// Process entry of blockctl (bin/blockctl.js loads it through tsx).
import { runCli } from "./program";

const exitCode = await runCli(process.argv.slice(2));
process.exit(exitCode);
