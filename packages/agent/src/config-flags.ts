// The agent's command-line flags, the environment variable each one also reads, and the usage text.
// Kept together so that a new flag gets its environment name (README.md, deploy manifests) and its
// --help line in one edit.
export const OPTIONS = {
  listen: { type: "string" },
  "server-id": { type: "string" },
  "data-dir": { type: "string" },
  advertise: { type: "string" },
  "default-wal-size": { type: "string" },
  "barrier-timeout-ms": { type: "string" },
  "shutdown-timeout-ms": { type: "string" },
  "rebuild-rate-limit": { type: "string" },
  "retention-max-age-ms": { type: "string" },
  "retention-max-wal-fraction": { type: "string" },
  "log-level": { type: "string" },
  device: { type: "string", multiple: true },
  "metrics-listen": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  "tls-client-auth": { type: "boolean" },
  insecure: { type: "boolean" },
  "control-allowed-identities": { type: "string" },
  "health-listen": { type: "string" },
  "nbd-listen": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Flag → environment variable (the table in README.md). */
export const ENV_NAMES = {
  listen: "BLOCKSHIP_LISTEN",
  "server-id": "BLOCKSHIP_SERVER_ID",
  "data-dir": "BLOCKSHIP_DATA_DIR",
  advertise: "BLOCKSHIP_ADVERTISE",
  "default-wal-size": "BLOCKSHIP_DEFAULT_WAL_SIZE",
  "barrier-timeout-ms": "BLOCKSHIP_BARRIER_TIMEOUT_MS",
  "shutdown-timeout-ms": "BLOCKSHIP_SHUTDOWN_TIMEOUT_MS",
  "rebuild-rate-limit": "BLOCKSHIP_REBUILD_RATE_LIMIT",
  "retention-max-age-ms": "BLOCKSHIP_RETENTION_MAX_AGE_MS",
  "retention-max-wal-fraction": "BLOCKSHIP_RETENTION_MAX_WAL_FRACTION",
  "log-level": "BLOCKSHIP_LOG_LEVEL",
  device: "BLOCKSHIP_DEVICES",
  "metrics-listen": "BLOCKSHIP_METRICS_LISTEN",
  "tls-cert": "BLOCKSHIP_TLS_CERT",
  "tls-key": "BLOCKSHIP_TLS_KEY",
  "tls-ca": "BLOCKSHIP_TLS_CA",
  "tls-client-auth": "BLOCKSHIP_TLS_CLIENT_AUTH",
  insecure: "BLOCKSHIP_INSECURE",
  "control-allowed-identities": "BLOCKSHIP_CONTROL_ALLOWED_IDENTITIES",
  "health-listen": "BLOCKSHIP_HEALTH_LISTEN",
  "nbd-listen": "BLOCKSHIP_NBD_LISTEN",
} as const;

export type BooleanFlag = "tls-client-auth" | "insecure";

export const USAGE = `usage: agent [flags]   (every flag also reads an environment variable)
  --listen HOST:PORT          BLOCKSHIP_LISTEN            gRPC listen address (port 0 = any free port)
  --server-id ID              BLOCKSHIP_SERVER_ID         stable server identity [A-Za-z0-9._:-]{1,128}
  --data-dir DIR              BLOCKSHIP_DATA_DIR          volume files go to DIR/volumes/<volumeId>.blk
  --advertise HOST:PORT       BLOCKSHIP_ADVERTISE         address peers dial (default: the bound address)
  --default-wal-size SIZE     BLOCKSHIP_DEFAULT_WAL_SIZE  WAL size when AllocateVolume leaves it 0 (64MiB)
  --barrier-timeout-ms MS     BLOCKSHIP_BARRIER_TIMEOUT_MS replica barrier deadline per flush (5000)
  --shutdown-timeout-ms MS    BLOCKSHIP_SHUTDOWN_TIMEOUT_MS bound on the SIGTERM drain (5000)
  --rebuild-rate-limit SIZE   BLOCKSHIP_REBUILD_RATE_LIMIT rebuild transfer limit per second, served or
                                                          pulled (e.g. 50MiB; 0 = unlimited, the default)
  --retention-max-age-ms MS   BLOCKSHIP_RETENTION_MAX_AGE_MS how long a lagging replica may hold WAL (300000)
  --retention-max-wal-fraction F  BLOCKSHIP_RETENTION_MAX_WAL_FRACTION
                                                          share of the WAL it may hold, 0.05..0.85 (0.8);
                                                          past either budget it is released: needs_rebuild
  --log-level LEVEL           BLOCKSHIP_LOG_LEVEL         trace|debug|info|warn|error|fatal|silent (info)
  --device VOLUME=PATH        BLOCKSHIP_DEVICES           host VOLUME on a block device (repeatable;
                                                          env: comma-separated list)
  --metrics-listen HOST:PORT  BLOCKSHIP_METRICS_LISTEN    Prometheus /metrics HTTP address (off unless set)
  --nbd-listen HOST:PORT      BLOCKSHIP_NBD_LISTEN        NBD server address (off unless set; port 0 = any
                                                          free port): export name = volume ID, served
                                                          while this copy is the writable primary
transport security (required: TLS files, or --insecure):
  --tls-cert FILE             BLOCKSHIP_TLS_CERT          PEM certificate; its Subject CN must be --server-id
  --tls-key FILE              BLOCKSHIP_TLS_KEY           PEM private key of --tls-cert
  --tls-ca FILE               BLOCKSHIP_TLS_CA            PEM CA bundle peers' certificates must chain to
  --tls-client-auth           BLOCKSHIP_TLS_CLIENT_AUTH   mutual TLS: require and verify client certificates
                                                          (replicas then admit only their primary's identity)
  --control-allowed-identities CN,CN  BLOCKSHIP_CONTROL_ALLOWED_IDENTITIES
                                                          only these certificate identities may call Control
                                                          (needs --tls-client-auth)
  --health-listen HOST:PORT   BLOCKSHIP_HEALTH_LISTEN     plaintext grpc.health.v1-only listener (probes)
  --insecure                  BLOCKSHIP_INSECURE=true     serve and dial plaintext (no TLS at all)`;
