// The bad-input case tables of test/bad-input.test.ts: every RPC with a malformed, unknown or
// unauthorised request and the documented gRPC code and reason it must get back. One module per
// service; this one gathers them for the test file.
export * from "./bad-input-common";
export { controlCases } from "./bad-input-control-cases";
export { replicationCases } from "./bad-input-replication-cases";
export { volumeCases } from "./bad-input-volume-cases";
