export * from "./budget";
export * from "./identity";
export * from "./rebuild";
export * from "./recoverability";
export * from "./sender";
export * from "./session";
export * from "./types";
