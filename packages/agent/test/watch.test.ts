import { existsSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  closeClient,
  createControlClient,
  grpcCodeOf,
  reasonOf,
  unary,
  type WatchStatusResponse__Output,
} from "@blockship/rpc";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { allocateRequest, MiB, primary, startTestAgent, tempDir, waitFor } from "./helpers";

function collect(call: ClientReadableStream<WatchStatusResponse__Output>) {
  const reports: WatchStatusResponse__Output[] = [];
  const ended = new Promise<string>((resolve) => {
    call.on("data", (r: WatchStatusResponse__Output) => reports.push(r));
    call.on("error", (err) => resolve(`${grpcCodeOf(err)} ${reasonOf(err) ?? ""}`.trim()));
    call.on("end", () => resolve("end"));
  });
  return { reports, ended };
}

describe("WatchStatus", () => {
  it("initial snapshot, a report on change, interval reports; cancel ends it; shutdown ends it with shutting_down", async () => {
    const t = tempDir();
    const agent = await startTestAgent({ dir: t.dir });
    const control = createControlClient(agent.address);
    try {
      await unary((cb) => control.AllocateVolume(allocateRequest("v1"), cb));
      const a = collect(control.WatchStatus({ interval_ms: 100 }));
      await waitFor(() => a.reports.length >= 1, "initial report");
      expect(a.reports[0]?.trigger).toBe("STATUS_TRIGGER_INITIAL");
      expect(a.reports[0]?.report?.volumes.map((v) => [v.volume_id, v.role])).toEqual([["v1", "ROLE_NONE"]]);
      await unary((cb) => control.ApplyAssignments({ assignments: [primary("v1", 1)] }, cb));
      await waitFor(
        () =>
          a.reports.some(
            (r) => r.trigger === "STATUS_TRIGGER_CHANGE" && r.report?.volumes[0]?.role === "ROLE_PRIMARY",
          ),
        "change report",
      );
      await waitFor(() => a.reports.some((r) => r.trigger === "STATUS_TRIGGER_INTERVAL"), "interval report");
      const seqs = a.reports.map((r) => Number(r.report?.seq));
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);

      const bad = collect(control.WatchStatus({ interval_ms: 5 }));
      expect(await bad.ended).toBe("3 invalid_argument");

      // Cancel: the server side stops (its change listener is gone).
      const base = agent.feed.listenerCount("change");
      const c = control.WatchStatus({});
      const cc = collect(c);
      await waitFor(
        () => cc.reports.length >= 1 && agent.feed.listenerCount("change") === base + 1,
        "third watcher",
      );
      c.cancel();
      await waitFor(() => agent.feed.listenerCount("change") === base, "cancelled watcher cleaned up");

      const b = collect(control.WatchStatus({ volume_ids: ["v1"] }));
      await waitFor(() => b.reports.length >= 1, "second watcher");
      a.reports.length = 0;
      await agent.stop();
      expect(await b.ended).toBe("14 shutting_down");
    } finally {
      closeClient(control);
      await agent.stop();
      t.cleanup();
    }
  });
});

describe("block devices named in config", () => {
  it("allocate formats the device, a restart reopens it, delete wipes its superblock and its rebuild staging", async () => {
    const t = tempDir();
    const device = join(t.dir, "fake-disk.img");
    writeFileSync(device, Buffer.alloc(0));
    truncateSync(device, 8 * MiB);
    const start = () => startTestAgent({ dir: t.dir, devices: new Map([["dev-vol", device]]) });
    let agent = await start();
    let control = createControlClient(agent.address);
    try {
      const res = await unary<{ created: boolean }>((cb) =>
        control.AllocateVolume(allocateRequest("dev-vol"), cb),
      );
      expect(res.created).toBe(true);
      expect(agent.host.get("dev-vol")?.devicePath).toBe(device);
      closeClient(control);
      await agent.stop();
      agent = await start();
      control = createControlClient(agent.address);
      expect(agent.host.list().map((h) => h.volumeId)).toEqual(["dev-vol"]);
      // A block device's rebuild stages in the data dir; delete removes what a cut rebuild left.
      const staging = ["", "-tail", "-resume"].map((s) => join(t.dir, "volumes", `dev-vol.install${s}`));
      for (const f of staging) writeFileSync(f, "left by a rebuild");
      await unary((cb) => control.DeleteVolume({ volume_id: "dev-vol" }, cb));
      expect(staging.filter((f) => existsSync(f))).toEqual([]);
      closeClient(control);
      await agent.stop();
      agent = await start();
      control = createControlClient(agent.address);
      expect(agent.host.list()).toEqual([]);
    } finally {
      closeClient(control);
      await agent.stop();
      t.cleanup();
    }
  });
});
