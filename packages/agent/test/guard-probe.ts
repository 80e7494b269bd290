// A real agent process (runAgentMain: the process guard installed as in production) that plants
// escaped errors on request, for process-guard-process.test.ts: stdin `reject <volumeId>` leaves a
// rejection unhandled inside that volume's scope, `throw` throws from a callback (nobody's volume).
import { createInterface } from "node:readline";
import { runAgentMain } from "../src/main";
import { inVolumeScope } from "../src/process-guard";

await runAgentMain(process.argv.slice(2), process.env, { name: "guard-probe" });
createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, volumeId = ""] = line.trim().split(" ");
  if (command === "reject") {
    inVolumeScope(volumeId, () => {
      void (async () => {
        await new Promise<void>((r) => setImmediate(r));
        throw new Error(`planted rejection in ${volumeId}`);
      })();
    });
  } else if (command === "throw") {
    setImmediate(() => {
      throw new Error("planted uncaught exception");
    });
  }
});
