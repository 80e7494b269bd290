// Fault schedules against three real agents (sync_all and sync_quorum): see suite.ts and README.md.
import { scheduleSuite } from "./suite";

scheduleSuite(
  3,
  [1001, 1003, 1005, 1007, 1009, 1011, 1013, 1015, 1017, 1019],
  [
    {
      seed: 401,
      faults: ["killReplica", "killPrimaryClean", "killPrimaryTail", "isolate", "net"],
      faultSteps: 3,
      found: "a rejoining copy stuck DISCONNECTED awaiting_catchup_session",
    },
  ],
);
