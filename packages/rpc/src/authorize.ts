// Guards every handler of a service with one check on the call (e.g. the peer's certificate
// identity) before the handler runs. A refused call never reaches the handler.
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { toRpcError } from "./errors";

/** The common part of every grpc-js server call (the request itself is not used here). */
export type ServerSurfaceCall = Omit<ServerUnaryCall<unknown, unknown>, "request">;

type AnyHandler = (call: ServerSurfaceCall, callback?: sendUnaryData<unknown>) => void;

/**
 * Wraps each handler of `handlers` so that `authorize(call)` runs first; when it throws, the call
 * fails with that error (unary and client-streaming: through the callback; streams: as the status).
 */
export function authorizeCalls<H extends object>(
  handlers: H,
  authorize: (call: ServerSurfaceCall) => void,
): H {
  const guarded: Record<string, AnyHandler> = {};
  for (const [name, handler] of Object.entries(handlers) as [string, AnyHandler | undefined][]) {
    if (typeof handler !== "function") continue;
    guarded[name] = (call, callback) => {
      try {
        authorize(call);
      } catch (err) {
        const error = toRpcError(err);
        if (callback !== undefined) callback(error);
        else call.emit("error", error);
        return;
      }
      handler(call, callback);
    };
  }
  return guarded as H;
}
