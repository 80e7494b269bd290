import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GENERATED_DIR, generateTypes } from "../src/codegen/gen-types";

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

describe("generated TypeScript types", () => {
  let tmp = "";
  afterAll(async () => {
    if (tmp !== "") await rm(tmp, { recursive: true, force: true });
  });

  it("match a fresh proto-loader-gen-types run (run `npm run gen -w @blockship/rpc` if this fails)", async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "blockship-gen-"));
    await generateTypes(tmp);
    const fresh = await listFiles(tmp);
    const committed = await listFiles(GENERATED_DIR);
    expect(committed).toEqual(fresh);
    for (const file of fresh) {
      const [a, b] = await Promise.all([
        readFile(path.join(tmp, file), "utf8"),
        readFile(path.join(GENERATED_DIR, file), "utf8"),
      ]);
      expect(b, `stale generated file ${file}`).toBe(a);
    }
  });
});
