// `npm start -- --once`: the whole demo against real agent processes must succeed.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../src/processes";

it("the demo replicates real data to the replica and verifies it (--once)", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "services/demo/src/main.ts"), "--once"],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  expect(out).toMatch(/replica copy matches byte for byte/);
  expect(out).toMatch(/primary-agent exited with code 0/);
  expect(out).toMatch(/replica-agent exited with code 0/);
  expect(out).toMatch(/demo finished/);
  expect(out).toMatch(/grpcurl -plaintext 127\.0\.0\.1:\d+ list/);
  expect(out).toMatch(/nbdinfo nbd:\/\/127\.0\.0\.1:\d+\/demo-vol/);
  expect(code).toBe(0);
});
