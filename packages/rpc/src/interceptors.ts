import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  type status,
} from "@grpc/grpc-js";
import { reasonOf } from "./errors";

// Server interceptors. `observeCalls` reports every finished call (method, code, reason,
// duration) so the agent can log and count RPCs without touching each handler.

export interface CallEvent {
  /** `/package.Service/Method`. */
  method: string;
  code: status;
  /** The stable reason of a failed call (undefined on OK or when the error carried none). */
  reason: string | undefined;
  durationMs: number;
}

/** An interceptor calling `observe` once per call, when its status is sent. */
export function observeCalls(
  observe: (event: CallEvent) => void,
  now: () => number = performance.now.bind(performance),
): ServerInterceptor {
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    const startedMs = now();
    const responder = new ResponderBuilder()
      .withSendStatus((statusObject, next) => {
        const metadata = statusObject.metadata ?? new Metadata();
        const reason =
          statusObject.code === 0 ? undefined : reasonOf({ details: statusObject.details, metadata });
        try {
          observe({ method: method.path, code: statusObject.code, reason, durationMs: now() - startedMs });
        } finally {
          next(statusObject);
        }
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
