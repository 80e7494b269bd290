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

/** Commands that use the volume as a disk over NBD (libnbd-bin, qemu-utils, fio, nbd-client). */
export function nbdCommands(nbdAddress: string, replicaNbdAddress: string, volumeId: string): string[] {
  const uri = `nbd://${nbdAddress}/${volumeId}`;
  const [host, port] = [
    nbdAddress.slice(0, nbdAddress.lastIndexOf(":")),
    nbdAddress.slice(nbdAddress.lastIndexOf(":") + 1),
  ];
  return [
    `# size, flags and block sizes the server advertises`,
    `nbdinfo ${uri}`,
    `# copy an image in and out (4 connections; FLUSH at the end = durable on both copies under sync_all)`,
    `head -c 16M /dev/urandom > /tmp/demo.img && nbdcopy --connections=4 --flush /tmp/demo.img ${uri}`,
    `nbdcopy ${uri} /tmp/demo-back.img`,
    `qemu-img compare -f raw -F raw /tmp/demo.img ${uri}    # identical: the rest reads as zeros`,
    `# fio's nbd engine: 4 KiB random writes, verified with crc32c`,
    `fio --name=demo --ioengine=nbd --uri=${uri} --rw=randwrite --bs=4k --size=16M --iodepth=16 --verify=crc32c`,
    `# a kernel block device (needs the nbd module: modprobe nbd), then a filesystem`,
    `nbd-client -b 4096 -N ${volumeId} ${host} ${port} /dev/nbd0 && mkfs.ext4 /dev/nbd0   # detach: nbd-client -d /dev/nbd0`,
    `# the replica refuses the export and names the primary (LIBNBD_DEBUG=1 shows the server's message)`,
    `LIBNBD_DEBUG=1 nbdinfo nbd://${replicaNbdAddress}/${volumeId} 2>&1 | grep -m1 primary`,
  ];
}
