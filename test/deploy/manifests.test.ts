// The Kubernetes manifests (deploy/kubernetes): every file parsed and schema-validated, every
// overlay built with kustomize and each resulting object validated, and the properties that
// matter checked on the built output — the agent accepts the configuration the pods get (through
// the agent's own parseConfig), probes are native gRPC on the agent port, pods are non-root with a
// read-only root filesystem, storage has the right shape per overlay, names line up.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type AgentConfig, ENV_NAMES, parseConfig } from "../../packages/agent/src/config";
import {
  type ConfigMapView,
  type Container,
  containersOf,
  DEPLOY_DIR,
  type K8sObject,
  KUSTOMIZE_DIR,
  kustomize,
  OVERLAYS,
  type Overlay,
  ofKind,
  readYamlFile,
  requireKubectl,
  type ServiceView,
  type StatefulSetView,
  selects,
  validateObject,
  yamlFiles,
} from "./k8s";

/** Names the agent reads (ENV_NAMES); the manifests may set nothing else. */
const AGENT_ENV = new Set<string>(Object.values(ENV_NAMES));
/**
 * TLS settings being added to the agent by the security work. Until ENV_NAMES has any BLOCKSHIP_TLS_*
 * name, the tls component may use exactly these; from then on they must be in ENV_NAMES.
 */
const PENDING_TLS_ENV = ["BLOCKSHIP_TLS_CERT", "BLOCKSHIP_TLS_KEY", "BLOCKSHIP_TLS_CA"];
const TLS_ENV_KNOWN = [...AGENT_ENV].some((n) => n.startsWith("BLOCKSHIP_TLS_"));
const METRICS_PORT = 9090;
/** Seconds the pod needs beyond the drain bound to close volumes (checkpoint + fsync) and exit. */
const CLOSE_MARGIN_S = 15;
/** The script each component runs (deploy/build-agent.mjs ENTRY_POINTS, copied to /app). */
const SCRIPT_OF_COMPONENT: Record<string, string> = {
  "primary-agent": "/app/primary-agent.mjs",
  "replica-agent": "/app/replica-agent.mjs",
};

function allowedEnv(overlay: Overlay): Set<string> {
  const allowed = new Set(AGENT_ENV);
  if (overlay === "tls" && !TLS_ENV_KNOWN) for (const n of PENDING_TLS_ENV) allowed.add(n);
  return allowed;
}

/**
 * The environment the kubelet would give the container: envFrom ConfigMaps, then env in order with
 * `$(VAR)` expanded from what is defined before it and metadata.name → the first pod's name.
 */
function containerEnv(
  sts: StatefulSetView,
  container: Container,
  configMaps: readonly ConfigMapView[],
): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    expect(source.secretRef, "no env from Secrets").toBeUndefined();
    const name = source.configMapRef?.name;
    const cm = configMaps.find((c) => c.metadata.name === name);
    expect(cm, `ConfigMap ${name} referenced by ${sts.metadata.name} exists`).toBeDefined();
    for (const [k, v] of Object.entries(cm?.data ?? {})) env.set(k, v);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom !== undefined) {
      expect(e.valueFrom.fieldRef?.fieldPath, `${e.name}: only the pod name is taken from the pod`).toBe(
        "metadata.name",
      );
      env.set(e.name, `${sts.metadata.name}-0`);
    } else {
      const value = (e.value ?? "").replace(/\$\(([A-Za-z0-9_]+)\)/g, (whole, ref: string) => {
        const resolved = env.get(ref);
        expect(resolved, `${e.name} refers to $(${ref}), defined before it`).toBeDefined();
        return resolved ?? whole;
      });
      env.set(e.name, value);
    }
  }
  return env;
}

function agentContainer(sts: StatefulSetView): Container {
  const agents = sts.spec.template.spec.containers.filter((c) => c.name === "agent");
  expect(agents, `${sts.metadata.name} has one container named agent`).toHaveLength(1);
  return agents[0] as Container;
}

/** The port the kubelet probes: the plaintext health-only listener with TLS, else the gRPC port. */
function probePort(container: Container, overlay: Overlay): number {
  if (overlay !== "tls") return grpcPort(container);
  const port = container.ports?.find((p) => p.name === "health")?.containerPort;
  expect(port, "a container port named health").toBeTypeOf("number");
  return port as number;
}

function grpcPort(container: Container): number {
  const port = container.ports?.find((p) => p.name === "grpc")?.containerPort;
  expect(port, "a container port named grpc").toBeTypeOf("number");
  return port as number;
}

describe("deploy/kubernetes files", () => {
  const files = yamlFiles();

  it("finds the base, the overlays and the tls component", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "base/kustomization.yaml",
        "overlays/block/kustomization.yaml",
        "overlays/file/kustomization.yaml",
        "overlays/tls/kustomization.yaml",
        "components/tls/kustomization.yaml",
      ]),
    );
  });

  it("parses every YAML file; every base resource validates against the Kubernetes schemas", () => {
    let validated = 0;
    for (const rel of files) {
      const docs = readYamlFile(rel);
      expect(docs.length, `${rel} has a document`).toBeGreaterThan(0);
      const kustomization = docs[0] as K8sObject & {
        resources?: string[];
        patches?: { path?: string }[];
      };
      if (kustomization.kind !== "Kustomization" && kustomization.kind !== "Component") continue;
      const dir = rel.slice(0, rel.lastIndexOf("/"));
      for (const res of kustomization.resources ?? []) {
        if (!/\.ya?ml$/.test(res)) continue; // a directory: built and validated through its overlay
        for (const obj of readYamlFile(`${dir}/${res}`)) {
          validateObject(obj, `${dir}/${res}`);
          validated += 1;
        }
      }
      // Patches are partial objects (no schema-required fields); their kind must still be known.
      for (const patch of kustomization.patches ?? []) {
        if (patch.path === undefined) continue;
        for (const obj of readYamlFile(`${dir}/${patch.path}`)) {
          expect(`${String(obj.apiVersion)}/${String(obj.kind)}`, `${dir}/${patch.path}`).toBe(
            "apps/v1/StatefulSet",
          );
        }
      }
    }
    expect(validated).toBeGreaterThanOrEqual(6);
  });

  it("rejects an invalid object (the validation is real)", () => {
    const [sts] = readYamlFile("base/primary-statefulset.yaml");
    const broken = structuredClone(sts) as K8sObject & { spec: { replicas: unknown } };
    broken.spec.replicas = "one";
    expect(() => validateObject(broken, "broken")).toThrow(/replicas/);
  });

  it("rejects a misspelt field the schemas would let through", () => {
    const [sts] = readYamlFile("base/primary-statefulset.yaml");
    const typo = structuredClone(sts) as K8sObject & {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    const container = typo.spec.template.spec.containers[0] as Record<string, unknown>;
    container.volumeDevice = container.volumeDevices;
    delete container.volumeDevices;
    expect(() => validateObject(typo, "typo")).toThrow(/containers\[0\]\.volumeDevice\b/);
  });
});

describe.each(OVERLAYS)("kustomize overlays/%s", (overlay) => {
  let objects: K8sObject[];
  let sets: StatefulSetView[];
  let services: ServiceView[];
  let configMaps: ConfigMapView[];

  beforeAll(() => {
    requireKubectl();
    objects = kustomize(overlay);
    sets = ofKind<StatefulSetView>(objects, "StatefulSet");
    services = ofKind<ServiceView>(objects, "Service");
    configMaps = ofKind<ConfigMapView>(objects, "ConfigMap");
  });

  it("builds, and every object validates against the Kubernetes schemas", () => {
    for (const obj of objects) validateObject(obj, `overlays/${overlay}`);
    const kinds = objects.map((o) => String(o.kind)).sort();
    expect(kinds).toEqual([
      "ConfigMap",
      "Namespace",
      "PodDisruptionBudget",
      "Service",
      "Service",
      "StatefulSet",
      "StatefulSet",
    ]);
    expect(sets.map((s) => s.metadata.name).sort()).toEqual(["blockship-primary", "blockship-replica"]);
    for (const obj of objects) {
      if (obj.kind === "Namespace") continue;
      expect((obj.metadata as { namespace?: string }).namespace, String(obj.kind)).toBe("blockship");
    }
  });

  it("sets only environment variables the agent reads, and the agent accepts them", () => {
    const allowed = allowedEnv(overlay);
    for (const sts of sets) {
      const container = agentContainer(sts);
      const env = containerEnv(sts, container, configMaps);
      for (const name of env.keys()) expect(allowed, `${sts.metadata.name}: ${name}`).toContain(name);
      const config: AgentConfig = parseConfig([], Object.fromEntries(env), {});
      expect(config.serverId).toBe(`${sts.metadata.name}-0`);
      expect(config.listen).toBe(`0.0.0.0:${grpcPort(container)}`);
      expect(config.advertise).toBe(`${sts.metadata.name}-0.${sts.spec.serviceName}:${grpcPort(container)}`);
      // The drain bound plus closing volumes fits in the grace period, or SIGKILL cuts the close.
      const graceS = sts.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      expect(graceS).toBeGreaterThanOrEqual(config.shutdownTimeoutMs / 1000 + CLOSE_MARGIN_S);
    }
  });

  it("runs the script of its component with a heap cap below the memory limit", () => {
    for (const sts of sets) {
      const container = agentContainer(sts);
      const component = sts.spec.template.metadata.labels["app.kubernetes.io/component"] ?? "";
      expect(container.command, "the image's entrypoint (node) is kept").toBeUndefined();
      expect(container.args?.at(-1)).toBe(SCRIPT_OF_COMPONENT[component]);
      expect(container.image).toMatch(/^blockship-agent:[0-9]/);
      const heapMiB = Number(/--max-old-space-size=([0-9]+)/.exec(container.args?.join(" ") ?? "")?.[1]);
      const limit = container.resources?.limits?.memory ?? "";
      const limitMiB = /^([0-9]+)Gi$/.test(limit)
        ? Number.parseInt(limit, 10) * 1024
        : Number.parseInt(limit, 10);
      expect(heapMiB).toBeGreaterThan(0);
      expect(heapMiB).toBeLessThan(limitMiB);
      expect(container.resources?.requests?.cpu).toBeDefined();
      expect(container.resources?.requests?.memory).toBeDefined();
      expect(container.resources?.limits?.cpu).toBeDefined();
    }
  });

  it("probes are native gRPC health checks on the agent port, or its plaintext health port with TLS (readiness on the overall service)", () => {
    for (const sts of sets) {
      const container = agentContainer(sts);
      const port = probePort(container, overlay);
      if (overlay === "tls") {
        const config = parseConfig([], Object.fromEntries(containerEnv(sts, container, configMaps)), {});
        expect(config.healthListen).toBe(`0.0.0.0:${port}`);
      }
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
        const p = container[probe];
        expect(p?.grpc?.port, `${sts.metadata.name} ${probe}`).toBe(port);
        expect(p?.httpGet ?? p?.tcpSocket ?? p?.exec).toBeUndefined();
      }
      expect(container.readinessProbe?.grpc?.service).toBe("");
      // Health services the agent registers (packages/agent README, Health).
      expect(["", "blockship.v1.Control"]).toContain(container.livenessProbe?.grpc?.service ?? "");
    }
  });

  it("runs non-root with a read-only root filesystem, no capabilities, seccomp RuntimeDefault", () => {
    for (const sts of sets) {
      const pod = sts.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
      for (const c of containersOf(pod)) {
        const sc = c.securityContext;
        expect(sc?.runAsNonRoot, c.name).toBe(true);
        expect(sc?.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc?.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc?.privileged ?? false, c.name).toBe(false);
        expect(sc?.capabilities?.drop, c.name).toEqual(["ALL"]);
        expect(sc?.capabilities?.add ?? [], c.name).toEqual([]);
        expect(sc?.seccompProfile?.type, c.name).toBe("RuntimeDefault");
        // The only writable paths are mounts: /tmp (emptyDir) and, for files, the data PVC.
        const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath);
        expect(mounts).toContain("/tmp");
      }
    }
  });

  it("storage has the shape of the overlay", () => {
    for (const sts of sets) {
      const container = agentContainer(sts);
      const pod = sts.spec.template.spec;
      const env = containerEnv(sts, container, configMaps);
      const config = parseConfig([], Object.fromEntries(env), {});
      const claims = sts.spec.volumeClaimTemplates ?? [];
      expect(claims.length, sts.metadata.name).toBeGreaterThan(0);
      // Deleting or scaling the set never deletes a copy of the volume.
      expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Retain",
        whenScaled: "Retain",
      });
      if (overlay === "file") {
        expect(container.volumeDevices ?? []).toEqual([]);
        expect(config.devices.size).toBe(0);
        for (const claim of claims) expect(claim.spec.volumeMode ?? "Filesystem").toBe("Filesystem");
        // The data dir is a mount of a claim (never the read-only root filesystem).
        const mount = container.volumeMounts?.find((m) => m.mountPath === config.dataDir);
        expect(mount, `data dir ${config.dataDir} is mounted`).toBeDefined();
        expect(claims.map((c) => c.metadata.name)).toContain(mount?.name);
        expect(mount?.readOnly ?? false).toBe(false);
        expect(pod.securityContext?.fsGroup, "fsGroup makes the PVC writable").toBe(
          pod.securityContext?.runAsGroup,
        );
      } else {
        for (const claim of claims) expect(claim.spec.volumeMode).toBe("Block");
        const devices = container.volumeDevices ?? [];
        expect(devices.map((d) => d.name).sort()).toEqual(claims.map((c) => c.metadata.name).sort());
        // Each raw device hosts exactly the volume the agent is told about.
        expect([...config.devices.values()].sort()).toEqual(devices.map((d) => d.devicePath).sort());
        // Raw devices are root:disk 0660 on the node; the pod joins that group.
        expect(pod.securityContext?.supplementalGroups).toContain(6);
        // The data dir is not writable on purpose (only devices can host volumes): it is no mount.
        expect((container.volumeMounts ?? []).map((m) => m.mountPath)).not.toContain(config.dataDir);
      }
    }
  });

  it("names ports consistently: Services target the pods' named ports, headless, governing the sets", () => {
    for (const sts of sets) {
      const container = agentContainer(sts);
      const podLabels = sts.spec.template.metadata.labels;
      expect(selects(sts.spec.selector.matchLabels, podLabels)).toBe(true);
      const svc = services.find((s) => s.metadata.name === sts.spec.serviceName);
      expect(svc, `governing Service ${sts.spec.serviceName}`).toBeDefined();
      if (svc === undefined) continue;
      expect(svc.spec.clusterIP).toBe("None");
      expect(selects(svc.spec.selector, podLabels)).toBe(true);
      const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      // With TLS the pods also have the health-only port for the kubelet (no Service needs it).
      expect([...ports.keys()].sort()).toEqual(
        overlay === "tls" ? ["grpc", "health", "metrics", "nbd"] : ["grpc", "metrics", "nbd"],
      );
      expect(ports.get("metrics")).toBe(METRICS_PORT);
      // The NBD frontend listens on the port the Service publishes.
      expect(
        parseConfig([], Object.fromEntries(containerEnv(sts, container, configMaps)), {}).nbdListen,
      ).toBe(`0.0.0.0:${ports.get("nbd")}`);
      expect(svc.spec.ports.map((p) => p.name).sort()).toEqual(["grpc", "metrics", "nbd"]);
      for (const p of svc.spec.ports) {
        expect(p.targetPort, `${svc.metadata.name} ${p.name}`).toBe(p.name);
        expect(p.port, `${svc.metadata.name} ${p.name} = container port`).toBe(ports.get(p.name));
      }
      // Services select only their own component.
      for (const other of sets.filter((s) => s !== sts)) {
        expect(selects(svc.spec.selector, other.spec.template.metadata.labels)).toBe(false);
      }
    }
  });

  it("the PodDisruptionBudget covers every copy and lets at most one go", () => {
    const [pdb] = ofKind<{
      spec: { maxUnavailable?: number; selector: { matchLabels: Record<string, string> } };
    }>(objects, "PodDisruptionBudget");
    expect(pdb?.spec.maxUnavailable).toBe(1);
    for (const sts of sets)
      expect(selects(pdb?.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(true);
  });
});

describe("kustomize overlays/tls: the Secret", () => {
  let sets: StatefulSetView[];
  let configMaps: ConfigMapView[];

  beforeAll(() => {
    requireKubectl();
    const objects = kustomize("tls");
    sets = ofKind<StatefulSetView>(objects, "StatefulSet");
    configMaps = ofKind<ConfigMapView>(objects, "ConfigMap");
  });

  it("the Secret is mounted read-only, each pod reads its own pair, mutual TLS and the Control allow-list are on", () => {
    for (const sts of sets) {
      const container = agentContainer(sts);
      const mount = container.volumeMounts?.find((m) => m.name === "tls");
      expect(mount?.readOnly).toBe(true);
      const volume = sts.spec.template.spec.volumes?.find((v) => v.name === "tls");
      expect(volume?.secret?.secretName).toBe("blockship-tls");
      const env = containerEnv(sts, container, configMaps);
      const pod = `${sts.metadata.name}-0`;
      for (const [name, file] of [
        ["BLOCKSHIP_TLS_CERT", `${pod}.crt`],
        ["BLOCKSHIP_TLS_KEY", `${pod}.key`],
        ["BLOCKSHIP_TLS_CA", "ca.crt"],
      ] as const) {
        expect(env.get(name)).toBe(`${mount?.mountPath}/${file}`);
      }
      const config = parseConfig([], Object.fromEntries(env), {});
      expect(config.tls?.clientAuth).toBe(true);
      expect(config.controlAllowedIdentities.length).toBeGreaterThan(0);
    }
  });
});

describe("deploy/Dockerfile agrees with the manifests and the bundle", () => {
  const dockerfile = readFileSync(join(DEPLOY_DIR, "Dockerfile"), "utf8");
  const [primary] = readYamlFile("base/primary-statefulset.yaml") as unknown as StatefulSetView[];

  it("builds the bundle with deploy/build-agent.mjs into /app and runs as the manifests' user", () => {
    expect(dockerfile).toMatch(/node deploy\/build-agent\.mjs --out \/out\/app/);
    expect(dockerfile).toMatch(/COPY --from=build \/out\/app \/app/);
    expect(dockerfile).toMatch(/npm (ci|install) --omit=dev/);
    const user = /^USER ([0-9]+):([0-9]+)$/m.exec(dockerfile);
    expect(user, "USER uid:gid (numeric, so runAsNonRoot can verify it)").not.toBeNull();
    expect(Number(user?.[1])).toBe(primary?.spec.template.spec.securityContext?.runAsUser);
    expect(Number(user?.[2])).toBe(primary?.spec.template.spec.securityContext?.runAsGroup);
    expect(dockerfile).toMatch(/^CMD \["\/app\/primary-agent\.mjs"\]$/m);
    const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)?.[1]?.split(/\s+/).map(Number) ?? [];
    expect(exposed).toEqual(expect.arrayContaining([7100, 7200, METRICS_PORT]));
    // The block shape's data dir is the root-owned directory the image creates.
    expect(dockerfile).toMatch(/BLOCKSHIP_DATA_DIR=\/var\/lib\/blockship/);
    expect(KUSTOMIZE_DIR.startsWith(DEPLOY_DIR)).toBe(true);
  });
});
