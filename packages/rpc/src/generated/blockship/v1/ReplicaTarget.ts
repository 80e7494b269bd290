// Original file: proto/blockship/v1/common.proto


/**
 * One member of a primary's replica set.
 */
export interface ReplicaTarget {
  /**
   * Stable identity of the replica agent (see the charset at the top). Required.
   * The replica ID is `<volume_id>/<server_id>`.
   */
  'server_id'?: (string);
  /**
   * gRPC address `host:port` of the replica agent's Replication service. Required.
   */
  'address'?: (string);
}

/**
 * One member of a primary's replica set.
 */
export interface ReplicaTarget__Output {
  /**
   * Stable identity of the replica agent (see the charset at the top). Required.
   * The replica ID is `<volume_id>/<server_id>`.
   */
  'server_id': (string);
  /**
   * gRPC address `host:port` of the replica agent's Replication service. Required.
   */
  'address': (string);
}
