// Original file: proto/blockship/v1/common.proto


/**
 * The outcome of one item of a batch RPC.
 */
export interface ItemStatus {
  /**
   * Canonical gRPC status code (0 = OK, 3 = INVALID_ARGUMENT, 5 = NOT_FOUND, 9 = FAILED_PRECONDITION, ...).
   */
  'code'?: (number);
  /**
   * Stable machine-readable reason from the table at the top of common.proto; empty when code = 0.
   */
  'reason'?: (string);
  /**
   * Human-readable detail; empty when code = 0.
   */
  'message'?: (string);
}

/**
 * The outcome of one item of a batch RPC.
 */
export interface ItemStatus__Output {
  /**
   * Canonical gRPC status code (0 = OK, 3 = INVALID_ARGUMENT, 5 = NOT_FOUND, 9 = FAILED_PRECONDITION, ...).
   */
  'code': (number);
  /**
   * Stable machine-readable reason from the table at the top of common.proto; empty when code = 0.
   */
  'reason': (string);
  /**
   * Human-readable detail; empty when code = 0.
   */
  'message': (string);
}
