#!/usr/bin/env node
// blockctl launcher: registers tsx in this process (so signals such as Ctrl-C reach the CLI
// directly, with no wrapper process in between) and runs the TypeScript entry.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
