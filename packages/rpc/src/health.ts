import type { Server } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";

export type { ServingStatus };

/** The overall status of the server in grpc.health.v1 is the empty service name. */
export const OVERALL = "";

/**
 * grpc.health.v1 status per served service plus the overall "" entry. Wraps
 * grpc-health-check's HealthImplementation (Check, Watch, List) and remembers the
 * statuses, which that class does not expose.
 */
export class HealthStatus {
  private readonly impl: HealthImplementation;
  private readonly statuses = new Map<string, ServingStatus>();

  constructor(serviceNames: readonly string[], initial: ServingStatus) {
    const names = [OVERALL, ...serviceNames];
    for (const name of names) this.statuses.set(name, initial);
    this.impl = new HealthImplementation(Object.fromEntries(this.statuses));
  }

  addToServer(server: Server): void {
    this.impl.addToServer(server);
  }

  /** Sets one service's status ("" = overall). Unknown names are added. */
  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.impl.setStatus(service, status);
  }

  /** Sets every known service and the overall status. */
  setAll(status: ServingStatus): void {
    for (const name of [...this.statuses.keys()]) this.set(name, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  snapshot(): Record<string, ServingStatus> {
    return Object.fromEntries(this.statuses);
  }
}
