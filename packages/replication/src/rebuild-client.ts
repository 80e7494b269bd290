import { type ClientOptions, createRebuildClient, type RebuildClient } from "@blockship/rpc";

/**
 * A Rebuild client suited to pullRebuild's `connect`: a local subchannel pool per client, so a
 * resume after a broken connection dials afresh instead of inheriting grpc-js's shared channel
 * back-off (up to 120 s). Credentials come from the caller (`options.credentials`).
 */
export function connectRebuild(address: string, options: ClientOptions = {}): RebuildClient {
  return createRebuildClient(address, {
    ...options,
    channelOptions: { "grpc.use_local_subchannel_pool": 1, ...options.channelOptions },
  });
}
