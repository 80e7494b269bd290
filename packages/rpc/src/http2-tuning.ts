import type { EventEmitter } from "node:events";
import type { Http2Session, Settings } from "node:http2";
import type { Server } from "@grpc/grpc-js";

// HTTP/2 receive windows and frame size for the connections our servers accept.
//
// grpc-js servers leave every accepted session at the HTTP/2 defaults: a 64 KiB stream window,
// a 64 KiB connection window and 16 KiB frames. A client streaming large messages (the primary's
// Ship stream: 256 KiB – 1 MiB WAL batches) then stalls every 64 KiB until the server's event loop
// sends a WINDOW_UPDATE, and each message arrives in 16 KiB pieces that are each allocated and
// copied. Between two processes on loopback that halves what one stream carries (measured with
// 1 MiB messages: ~150 MB/s at the defaults, ~250 MB/s with the values below). grpc-js has
// no server option for these (clients have `grpc-node.flow_control_window`), so they are set on
// each session as it is accepted.
//
// Memory stays bounded: a sender may have at most one stream window of unread bytes per stream
// and one connection window per connection in the server's buffers.

/** Bytes a client may send on one stream before the server reads them. */
export const SERVER_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
/** Bytes a client may send on one connection (all streams) before the server reads them. */
export const SERVER_CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
/** Largest HTTP/2 DATA frame the server accepts (the protocol allows up to 16 MiB - 1). */
export const SERVER_MAX_FRAME_BYTES = 256 * 1024;

export const SERVER_HTTP2_SETTINGS: Readonly<Settings> = Object.freeze({
  initialWindowSize: SERVER_STREAM_WINDOW_BYTES,
  maxFrameSize: SERVER_MAX_FRAME_BYTES,
});

const tuned = new WeakSet<object>();

/**
 * Applies the settings above to every session the server's listeners accept from now on. Call
 * after `bindAsync` resolved (the listeners exist only then). Returns how many listeners were
 * tuned: 0 means this grpc-js version hides its listeners elsewhere (the rpc tests catch that).
 */
export function tuneServerSessions(server: Server): number {
  // grpc-js keeps its node:http2 servers in a private map; there is no public hook.
  const listeners = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(listeners instanceof Map)) return 0;
  let count = 0;
  for (const listener of listeners.keys() as IterableIterator<EventEmitter>) {
    count++;
    if (tuned.has(listener)) continue;
    tuned.add(listener);
    listener.on("session", tuneSession);
  }
  return count;
}

function tuneSession(session: Http2Session): void {
  try {
    session.setLocalWindowSize(SERVER_CONNECTION_WINDOW_BYTES);
    session.settings(SERVER_HTTP2_SETTINGS);
  } catch {
    // A session that is already closing cannot take new settings; nothing to tune.
  }
}
