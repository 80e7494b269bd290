// Fault schedules against two real agents (sync_all): see suite.ts and README.md.
import { scheduleSuite } from "./suite";

scheduleSuite(2, [1000, 1002, 1004, 1006, 1008, 1010, 1012, 1014, 1016, 1018]);
