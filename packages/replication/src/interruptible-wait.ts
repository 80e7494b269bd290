import { cancellableSleep } from "./signal";

/**
 * The shipper's one timed pause (reconnect back-off or needs_rebuild probe interval). Only close()
 * or entering needs_rebuild interrupts it: appends must not shorten a back-off.
 */
export class InterruptibleWait {
  private current: { cancel: () => void } | undefined;

  async sleep(ms: number): Promise<void> {
    const sleep = cancellableSleep(ms);
    this.current = sleep;
    await sleep.done;
    this.current = undefined;
  }

  interrupt(): void {
    this.current?.cancel();
  }
}
