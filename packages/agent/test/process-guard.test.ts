// The process guard: escaped errors are logged with a stable event name, counted, and fail the
// volume they belong to (sticky volume_failed); unattributed ones are logged only.
import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { isStorageError } from "@blockship/storage";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent";
import type { Logger } from "../src/log";
import { attributedVolume, installProcessGuard, inVolumeScope } from "../src/process-guard";
import { MiB, startTestAgent, tempDir } from "./helpers";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agentWithVolume(volumeId: string): Promise<Agent> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const agent = await startTestAgent({ dir: t.dir });
  cleanups.push(async () => {
    await agent.stop();
  });
  await agent.host.allocate({
    volumeId,
    sizeBytes: 4 * MiB,
    blockSize: 4096,
    walSizeBytes: MiB,
    durabilityMode: "best_effort",
  });
  return agent;
}

function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n")) if (l !== "") lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: "info" }, sink), lines };
}

describe("process guard", () => {
  it("attributes an error to the volume it names, its causes, or the volume scope it escaped from", async () => {
    expect(attributedVolume(Object.assign(new Error("x"), { volumeId: "v1" }))).toBe("v1");
    const inner = Object.assign(new Error("inner"), { volumeId: "v2" });
    expect(attributedVolume(new Error("outer", { cause: inner }))).toBe("v2");
    expect(attributedVolume(new Error("nobody's"))).toBeUndefined();
    expect(attributedVolume("a string")).toBeUndefined();
    const scoped = await inVolumeScope("v3", async () => {
      await new Promise<void>((r) => setImmediate(r));
      return attributedVolume(new Error("later"));
    });
    expect(scoped).toBe("v3");
  });

  it("logs (event name), counts and keeps going; a hosted volume's error fails that volume only", async () => {
    const agent = await agentWithVolume("g1");
    await agent.host.allocate({
      volumeId: "g2",
      sizeBytes: 4 * MiB,
      blockSize: 4096,
      walSizeBytes: MiB,
      durabilityMode: "best_effort",
    });
    const target = new EventEmitter();
    const uninstall = agent.guardProcess(target);
    cleanups.push(uninstall);
    target.emit(
      "unhandledRejection",
      Object.assign(new Error("boom"), { volumeId: "g1" }),
      Promise.resolve(),
    );
    target.emit("uncaughtException", new Error("not a volume's"));
    target.emit("uncaughtException", Object.assign(new Error("gone"), { volumeId: "not-hosted" }));

    const g1 = agent.host.get("g1");
    const g2 = agent.host.get("g2");
    expect(isStorageError(g1?.volume.failed, "volume_failed")).toBe(true);
    await expect(g1?.volume.write(0, Buffer.alloc(4096))).rejects.toMatchObject({ reason: "volume_failed" });
    expect(g2?.volume.failed).toBeUndefined();
    await g2?.volume.write(0, Buffer.alloc(4096, 1));

    const text = await agent.metrics.text();
    expect(text).toContain(
      'blockship_process_guard_events_total{kind="unhandled_rejection",action="volume_failed"} 1',
    );
    expect(text).toContain(
      'blockship_process_guard_events_total{kind="uncaught_exception",action="logged"} 2',
    );
    uninstall();
    expect(target.listenerCount("unhandledRejection") + target.listenerCount("uncaughtException")).toBe(0);
  });

  it("writes one structured line per event and never throws itself", () => {
    const { log, lines } = captureLog();
    const target = new EventEmitter();
    const uninstall = installProcessGuard({
      log,
      count: () => {
        throw new Error("a broken counter");
      },
      failVolume: () => false,
      target,
    });
    cleanups.push(uninstall);
    expect(() => target.emit("uncaughtException", new Error("x"))).not.toThrow();
    const t2 = new EventEmitter();
    cleanups.push(installProcessGuard({ log, count: () => {}, failVolume: () => true, target: t2 }));
    t2.emit("unhandledRejection", Object.assign(new Error("bad"), { volumeId: "v9", reason: "internal" }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      event: "unhandled_rejection",
      action: "volume_failed",
      volumeId: "v9",
      err: { type: "Error", message: "bad", reason: "internal", volumeId: "v9" },
    });
  });
});
