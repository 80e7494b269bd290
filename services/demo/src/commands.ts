// The operator commands printed by the demo, ready to paste against the running pair.

export function grpcurlCommands(primary: string, replica: string, volumeId: string, epoch: number): string[] {
  const g = "grpcurl -plaintext";
  return [
    `# what is served (reflection), and the Control API with its documentation`,
    `${g} ${primary} list`,
    `${g} ${primary} describe blockship.v1.Control`,
    `# health: overall, and Volume (SERVING only while a volume is writable here)`,
    `${g} -d '{"service":""}' ${primary} grpc.health.v1.Health/Check`,
    `${g} -d '{"service":"blockship.v1.Volume"}' ${replica} grpc.health.v1.Health/Check`,
    `# status and the protocol state that drives the phase gate`,
    `${g} -d '{}' ${primary} blockship.v1.Control/GetStatus`,
    `${g} -d '{"volume_id":"${volumeId}"}' ${primary} blockship.v1.Control/GetProtocolState`,
    `${g} -d '{"interval_ms":2000}' ${primary} blockship.v1.Control/WatchStatus`,
    `# I/O through the primary; the replica's copy is read with allow_copy_read (else not_primary)`,
    `${g} -d "{\\"volume_id\\":\\"${volumeId}\\",\\"lba\\":\\"300\\",\\"data\\":\\"$(head -c 4096 /dev/urandom | base64 -w0)\\"}" ${primary} blockship.v1.Volume/Write`,
    `${g} -d '{"volume_id":"${volumeId}"}' ${primary} blockship.v1.Volume/Flush`,
    `${g} -d '{"volume_id":"${volumeId}","lba":"0","length_bytes":4096,"allow_copy_read":true}' ${replica} blockship.v1.Volume/Read`,
    `# act as the master: renew the primary's lease, or re-send an assignment (idempotent)`,
    `${g} -d '{"grants":[{"volume_id":"${volumeId}","epoch":"${epoch}","lease_ttl_ms":30000}]}' ${primary} blockship.v1.Control/RenewLeases`,
    `${g} -d '{"assignments":[{"volume_id":"${volumeId}","epoch":"${epoch}","role":"ROLE_REPLICA","primary_server_id":"demo-primary"}]}' ${replica} blockship.v1.Control/ApplyAssignments`,
    `# the same with buf curl (npx buf curl --protocol grpc --http2-prior-knowledge http://HOST:PORT/SERVICE/METHOD -d '{...}')`,
    `npx buf curl --protocol grpc --http2-prior-knowledge --list-services http://${primary}`,
  ];
}
