// Replica identity: `<volumeId>/<serverId>`. Addresses change; identity does not.
import { ProtocolError, type SessionId } from "./types";

export function makeReplicaId(volumeId: string, serverId: string): string {
  if (volumeId === "") throw new ProtocolError("invalid_argument", "empty volume id");
  // The inverse mapping splits at the last `/`, so a server ID containing one would be ambiguous.
  if (serverId === "" || serverId.includes("/")) {
    throw new ProtocolError("invalid_argument", `bad server id ${JSON.stringify(serverId)}`);
  }
  return `${volumeId}/${serverId}`;
}

/** The volume a replica ID belongs to (everything before the last `/`), or "" for an opaque ID. */
export function volumeOfReplica(replicaId: string): string {
  const cut = replicaId.lastIndexOf("/");
  return cut < 0 ? "" : replicaId.slice(0, cut);
}

export function serverOfReplica(replicaId: string): string {
  return replicaId.slice(replicaId.lastIndexOf("/") + 1);
}

export function belongsToVolume(replicaId: string, volumeId: string): boolean {
  return replicaId.startsWith(`${volumeId}/`) && volumeOfReplica(replicaId) === volumeId;
}

/** Session IDs come from one counter per engine instance: positive, increasing, never reused. */
export class SessionIdSource {
  private last: SessionId = 0;
  next(): SessionId {
    this.last += 1;
    return this.last;
  }
  peekLast(): SessionId {
    return this.last;
  }
}
