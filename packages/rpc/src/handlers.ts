import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  sendUnaryData,
} from "@grpc/grpc-js";
import { toRpcError } from "./errors";

// Adapters from async functions to grpc-js handlers. Whatever the function throws or
// rejects with goes through toRpcError, so a domain error carrying `reason` reaches the
// client with the canonical code and reason, and an unexpected error becomes `internal`
// instead of grpc-js's UNKNOWN.

/** `(request, call) => response` as a unary handler. */
export function unaryHandler<Req, Res>(
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): handleUnaryCall<Req, Res> {
  return (call, callback) => settle(() => fn(call.request, call), callback);
}

/** `(call) => response` as a client-streaming handler. */
export function clientStreamHandler<Req, Res>(
  fn: (call: ServerReadableStream<Req, Res>) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call, callback) => settle(() => fn(call), callback);
}

/** `(call) => void` as a server-streaming handler: resolving ends the stream, rejecting fails it. */
export function serverStreamHandler<Req, Res>(
  fn: (call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    run(() => fn(call)).then(
      () => call.end(),
      (err: unknown) => call.emit("error", toRpcError(err)),
    );
  };
}

/** `(call) => void` as a bidi handler: resolving ends the response stream, rejecting fails it. */
export function bidiStreamHandler<Req, Res>(
  fn: (call: ServerDuplexStream<Req, Res>) => Promise<void>,
): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    run(() => fn(call)).then(
      () => call.end(),
      (err: unknown) => call.emit("error", toRpcError(err)),
    );
  };
}

function settle<Res>(fn: () => Promise<Res> | Res, callback: sendUnaryData<Res>): void {
  run(fn).then(
    (response) => callback(null, response),
    (err: unknown) => callback(toRpcError(err)),
  );
}

/** Runs fn so that a synchronous throw becomes a rejection. */
async function run<T>(fn: () => Promise<T> | T): Promise<T> {
  return fn();
}
