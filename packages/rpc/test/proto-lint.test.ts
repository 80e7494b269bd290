import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROTO_ROOT } from "../src/proto-files";
import { bufBinary } from "../src/testing/buf-curl";

const run = promisify(execFile);

describe("proto/ lint", () => {
  it("passes buf lint (STANDARD + COMMENTS, see proto/buf.yaml)", async () => {
    const { stdout, stderr } = await run(bufBinary(), ["lint"], { cwd: PROTO_ROOT });
    expect(stdout + stderr).toBe("");
  });

  it("is formatted as buf format would", async () => {
    const { stdout } = await run(bufBinary(), ["format", "-d", "--exit-code"], { cwd: PROTO_ROOT });
    expect(stdout).toBe("");
  });
});
