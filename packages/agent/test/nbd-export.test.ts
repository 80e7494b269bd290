// How failures of the volume path reach an NBD client: a lost authority closes the connection
// (no reply), bad input is EINVAL/ENOSPC, everything else (an unconfirmed flush) is EIO.
import { Errno, NbdFencedError, type NbdIoError } from "@blockship/nbd";
import { RpcError } from "@blockship/rpc";
import { StorageError } from "@blockship/storage";
import { describe, expect, it } from "vitest";
import { nbdErrorOf } from "../src/nbd-export";

describe("nbdErrorOf", () => {
  it("fence reasons close the connection without a reply", () => {
    for (const reason of ["not_primary", "epoch_stale", "lease_expired", "shutting_down"] as const)
      expect(nbdErrorOf(new RpcError(reason, "x"))).toBeInstanceOf(NbdFencedError);
    expect(nbdErrorOf(new StorageError("volume_closed", "x"))).toBeInstanceOf(NbdFencedError);
  });

  it("bad input and unconfirmable flushes get errnos, never success", () => {
    const errno = (e: Error) => (e as NbdIoError).errno;
    expect(errno(nbdErrorOf(new StorageError("invalid_argument", "x")))).toBe(Errno.EINVAL);
    expect(errno(nbdErrorOf(new StorageError("out_of_range", "x")))).toBe(Errno.ENOSPC);
    expect(errno(nbdErrorOf(new RpcError("durability_barrier_failed", "x")))).toBe(Errno.EIO);
    expect(errno(nbdErrorOf(new RpcError("durability_quorum_lost", "x")))).toBe(Errno.EIO);
    expect(errno(nbdErrorOf(new StorageError("volume_failed", "x")))).toBe(Errno.EIO);
    expect(errno(nbdErrorOf(new Error("anything")))).toBe(Errno.EIO);
  });
});
