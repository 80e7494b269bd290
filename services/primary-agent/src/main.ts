// Entry point: node --import tsx services/primary-agent/src/main.ts [flags] (see --help).
import { runAgentMain } from "@blockship/agent";
import { DEFAULTS } from "./index";

await runAgentMain(process.argv.slice(2), process.env, DEFAULTS);
