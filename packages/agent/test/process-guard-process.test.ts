// The process guard in a real agent process: an unhandled rejection inside a volume's work and an
// uncaught exception from nowhere are logged and counted, the process keeps serving, the volume the
// rejection belonged to is failed (sticky volume_failed), and the other volume keeps working.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  closeClient,
  createControlClient,
  createHealthClient,
  createVolumeClient,
  grpcCodeOf,
  reasonOf,
  unary,
} from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allocateRequest, primary, tempDir, waitFor } from "./helpers";
import { REPO_ROOT } from "./process-helpers";

const INTERNAL = 13;
let child: ChildProcess;
let address = "";
let metricsAddress = "";
const lines: string[] = [];
const dir = tempDir("guard-probe-");

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, "packages/agent/test/guard-probe.ts"),
      ...["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--insecure"],
      ...["--server-id", "probe", "--data-dir", dir.dir],
    ],
    { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] },
  );
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (l) => lines.push(l));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      lines.push(line);
      if (!line.includes('"listening"')) return;
      const msg = JSON.parse(line) as { address: string; metricsAddress: string };
      address = msg.address;
      metricsAddress = msg.metricsAddress;
      resolve();
    });
    child.once("exit", (code) => reject(new Error(`probe exited (${code}): ${lines.join("\n")}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  dir.cleanup();
});

describe("process guard in a real agent process", () => {
  it("logs, counts, fails only the volume the error belongs to, and keeps serving", async () => {
    const control = createControlClient(address);
    const volume = createVolumeClient(address);
    const health = createHealthClient(address);
    try {
      for (const id of ["doomed", "fine"]) {
        await unary((cb) => control.AllocateVolume(allocateRequest(id), cb));
        await unary((cb) => control.ApplyAssignments({ assignments: [primary(id, 1)] }, cb));
      }
      child.stdin?.write("reject doomed\nthrow\n");
      await waitFor(
        () => lines.filter((l) => /"event":"(unhandled_rejection|uncaught_exception)"/.test(l)).length >= 2,
        "two guard events in the log",
      );
      expect(child.exitCode).toBeNull();
      const events = lines
        .filter((l) => l.includes('"event":'))
        .map((l) => JSON.parse(l) as { event: string; action: string; volumeId?: string });
      expect(events.map((e) => [e.event, e.action, e.volumeId])).toEqual([
        ["unhandled_rejection", "volume_failed", "doomed"],
        ["uncaught_exception", "logged", undefined],
      ]);
      const res = await unary<{ status: string }>((cb) => health.Check({ service: "" }, cb));
      expect(res.status).toBe("SERVING");
      const write = (id: string) =>
        unary((cb) => volume.Write({ volume_id: id, lba: "0", data: Buffer.alloc(4096, 1) }, cb));
      const failed = await write("doomed").then(
        () => undefined,
        (err: unknown) => err,
      );
      expect([grpcCodeOf(failed), reasonOf(failed)]).toEqual([INTERNAL, "internal"]);
      expect(String((failed as Error).message)).toContain("volume_failed");
      await write("fine");
      await unary((cb) => volume.Flush({ volume_id: "fine" }, cb));
      const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
      expect(text).toContain(
        'blockship_process_guard_events_total{kind="unhandled_rejection",action="volume_failed"} 1',
      );
      expect(text).toContain(
        'blockship_process_guard_events_total{kind="uncaught_exception",action="logged"} 1',
      );
    } finally {
      closeClient(control);
      closeClient(volume);
      closeClient(health);
    }
  });
});
