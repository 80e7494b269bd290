import type { ChannelOptions } from "@grpc/grpc-js";

// Channel options shared by every client and server. Both ends must agree: message size
// limits apply on each side, and a client that pings more often than the server permits
// gets GOAWAY "too_many_pings" (grpc-js servers do not enforce it, C-core/Go servers do;
// the server options below are set so that any implementation accepts our clients).

/** Largest gRPC message either end sends or accepts: WAL batches and rebuild chunks fit. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface KeepaliveSettings {
  /** Client: send a keepalive ping after this much time without activity. */
  clientKeepaliveTimeMs: number;
  /** Both ends: drop the connection when a ping is not answered within this time. */
  keepaliveTimeoutMs: number;
  /** Server: ping its clients after this much idle time. */
  serverKeepaliveTimeMs: number;
  /** Server: minimum interval between client pings it tolerates; must be <= clientKeepaliveTimeMs. */
  serverMinPingIntervalMs: number;
}

export const DEFAULT_KEEPALIVE: Readonly<KeepaliveSettings> = Object.freeze({
  clientKeepaliveTimeMs: 20_000,
  keepaliveTimeoutMs: 10_000,
  serverKeepaliveTimeMs: 30_000,
  serverMinPingIntervalMs: 10_000,
});

/** HTTP/2 connection window for clients: large server-streamed messages (rebuild) need more than 64 KiB. */
export const CLIENT_FLOW_CONTROL_WINDOW_BYTES = 8 * 1024 * 1024;

export function assertKeepaliveAgrees(k: KeepaliveSettings): void {
  if (!(k.serverMinPingIntervalMs <= k.clientKeepaliveTimeMs)) {
    throw new Error(
      `keepalive mismatch: clients ping every ${k.clientKeepaliveTimeMs} ms but the server tolerates only ${k.serverMinPingIntervalMs} ms`,
    );
  }
  if (!(k.keepaliveTimeoutMs > 0 && k.clientKeepaliveTimeMs > 0 && k.serverKeepaliveTimeMs > 0)) {
    throw new Error("keepalive times must be positive");
  }
}

export function clientChannelOptions(keepalive: KeepaliveSettings = DEFAULT_KEEPALIVE): ChannelOptions {
  assertKeepaliveAgrees(keepalive);
  return {
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.keepalive_time_ms": keepalive.clientKeepaliveTimeMs,
    "grpc.keepalive_timeout_ms": keepalive.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc-node.flow_control_window": CLIENT_FLOW_CONTROL_WINDOW_BYTES,
  };
}

export function serverChannelOptions(keepalive: KeepaliveSettings = DEFAULT_KEEPALIVE): ChannelOptions {
  assertKeepaliveAgrees(keepalive);
  return {
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.keepalive_time_ms": keepalive.serverKeepaliveTimeMs,
    "grpc.keepalive_timeout_ms": keepalive.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 1,
    // Honoured by C-core/Go-compatible servers; documents the contract for grpc-js too.
    "grpc.http2.min_ping_interval_without_data_ms": keepalive.serverMinPingIntervalMs,
    "grpc.http2.max_ping_strikes": 0,
  };
}
