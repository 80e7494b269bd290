// Types of deploy/build-agent.mjs (plain JS so the image build needs no TypeScript tooling).

/** Output name → entry point (relative to the repository root). */
export declare const ENTRY_POINTS: Readonly<Record<"primary-agent" | "replica-agent", string>>;

/** Third-party runtime dependencies of the bundled workspaces: name → exact version. */
export declare function runtimeDependencies(): Promise<Record<string, string>>;

export interface BuildResult {
  /** Files written, relative to the output directory. */
  readonly files: readonly string[];
  /** The dependencies written to <out>/package.json. */
  readonly dependencies: Readonly<Record<string, string>>;
  /** Every module the bundles import at run time (node: builtins and third-party packages). */
  readonly externalImports: readonly string[];
}

export declare function buildAgent(outDir: string): Promise<BuildResult>;
