// Helpers for the deploy-manifest tests: YAML loading, kustomize builds through kubectl, schema
// validation with kubernetes-models (the Kubernetes OpenAPI schemas), and typed views of the few
// fields the checks read.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEPLOY_DIR = join(REPO_ROOT, "deploy");
export const KUSTOMIZE_DIR = join(DEPLOY_DIR, "kubernetes");
export const OVERLAYS = ["block", "file", "tls"] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** A Kubernetes object as parsed from YAML; fields are read through the typed views below. */
export type K8sObject = Record<string, unknown> & { apiVersion?: unknown; kind?: unknown };

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** The kinds our manifests may contain, by `apiVersion/kind`, with their schema-carrying model. */
export const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ["v1/Namespace", Namespace],
  ["v1/Service", Service],
  ["v1/ConfigMap", ConfigMap],
  ["v1/Secret", Secret],
  ["apps/v1/StatefulSet", StatefulSet],
  ["policy/v1/PodDisruptionBudget", PodDisruptionBudget],
]);

export function typeKey(obj: K8sObject): string {
  return `${String(obj.apiVersion)}/${String(obj.kind)}`;
}

/**
 * Validates against the Kubernetes schema and rejects field names no schema defines; throws an
 * error naming the object and the problem.
 */
export function validateObject(obj: K8sObject, where: string): void {
  const model = MODELS.get(typeKey(obj));
  if (model === undefined) throw new Error(`${where}: unexpected kind ${typeKey(obj)}`);
  const name = (obj.metadata as { name?: string } | undefined)?.name;
  try {
    new model(obj as never).validate();
  } catch (err) {
    throw new Error(`${where}: ${typeKey(obj)} ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const unknown = unknownFields(obj);
  if (unknown.length > 0)
    throw new Error(
      `${where}: ${typeKey(obj)} ${name}: fields no Kubernetes schema defines: ${unknown.join(", ")}`,
    );
}

/**
 * Object keys whose values are free-form maps (labels, ConfigMap data, selectors, quantities):
 * their keys are user data, not schema fields.
 */
const FREE_FORM_MAPS = new Set([
  "labels",
  "annotations",
  "data",
  "stringData",
  "binaryData",
  "matchLabels",
  "nodeSelector",
  "requests",
  "limits",
  "capacity",
]);

let knownFieldNames: Set<string> | undefined;

/**
 * Every property name the Kubernetes schemas define, from kubernetes-models' compiled validators.
 * The schemas allow unknown fields (the API server drops or rejects them at apply time), so a typo
 * such as `volumeDevice` would pass `validate()`; checking names against this set catches it.
 */
function schemaFieldNames(): Set<string> {
  if (knownFieldNames !== undefined) return knownFieldNames;
  const require = createRequire(import.meta.url);
  const dirs = [
    join(dirname(require.resolve("kubernetes-models/package.json")), "_schemas"),
    join(dirname(require.resolve("@kubernetes-models/apimachinery/package.json")), "_schemas"),
  ];
  const names = new Set<string>();
  for (const dir of dirs) {
    for (const file of readdirSync(dir)) {
      if (!file.endsWith(".js")) continue;
      for (const m of readFileSync(join(dir, file), "utf8").matchAll(
        /parentDataProperty:"([A-Za-z0-9_$]+)"/g,
      )) {
        names.add(m[1] as string);
      }
    }
  }
  if (!names.has("volumeDevices") || !names.has("readOnlyRootFilesystem"))
    throw new Error(`could not read field names from the kubernetes-models schemas in ${dirs.join(", ")}`);
  knownFieldNames = names;
  return names;
}

/** Paths of keys in `obj` that no Kubernetes schema defines (likely typos). */
export function unknownFields(obj: unknown, path = ""): string[] {
  const names = schemaFieldNames();
  if (Array.isArray(obj)) return obj.flatMap((v, i) => unknownFields(v, `${path}[${i}]`));
  if (obj === null || typeof obj !== "object") return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const at = path === "" ? key : `${path}.${key}`;
    if (!names.has(key)) out.push(at);
    // A Service's spec.selector is a plain string map (a LabelSelector has matchLabels objects).
    const freeForm = FREE_FORM_MAPS.has(key) || (key === "selector" && isStringMap(value));
    if (!freeForm) out.push(...unknownFields(value, at));
  }
  return out;
}

function isStringMap(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

export function parseYaml(text: string, where: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  const out: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value))
      throw new Error(`${where}: a document is not a map`);
    out.push(value as K8sObject);
  }
  return out;
}

/** Every .yaml/.yml file under deploy/kubernetes, relative to it. */
export function yamlFiles(dir = KUSTOMIZE_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(relative(KUSTOMIZE_DIR, full));
  }
  return out.sort();
}

export function readYamlFile(rel: string): K8sObject[] {
  return parseYaml(readFileSync(join(KUSTOMIZE_DIR, rel), "utf8"), rel);
}

const KUBECTL = process.env.KUBECTL ?? "kubectl";

/** Fails (never skips) when kubectl is missing: the kustomize output is part of what we test. */
export function requireKubectl(): string {
  try {
    return execFileSync(KUBECTL, ["version", "--client"], { encoding: "utf8", timeout: 20_000 });
  } catch (err) {
    throw new Error(
      `kubectl is needed to build the kustomize overlays (tried ${JSON.stringify(KUBECTL)}; set KUBECTL ` +
        `to override): install kubectl >= 1.27 (kustomize v5). Cause: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

const built = new Map<Overlay, string>();

/** `kubectl kustomize deploy/kubernetes/overlays/<overlay>`, parsed (built once per test file). */
export function kustomize(overlay: Overlay): K8sObject[] {
  let text = built.get(overlay);
  if (text === undefined) {
    const dir = join(KUSTOMIZE_DIR, "overlays", overlay);
    text = execFileSync(KUBECTL, ["kustomize", dir], { encoding: "utf8", timeout: 20_000 });
    built.set(overlay, text);
  }
  return parseYaml(text, `kustomize overlays/${overlay}`);
}

// ---- typed views of the fields the checks read ----

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
export interface ContainerPort {
  name?: string;
  containerPort: number;
}
export interface GrpcProbe {
  grpc?: { port: number; service?: string };
  httpGet?: unknown;
  tcpSocket?: unknown;
  exec?: unknown;
}
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
}
export interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  ports?: ContainerPort[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeDevices?: { name: string; devicePath: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: GrpcProbe;
  readinessProbe?: GrpcProbe;
  livenessProbe?: GrpcProbe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string }; configMap?: unknown }[];
}
export interface StatefulSetView {
  metadata: { name: string; namespace?: string };
  spec: {
    serviceName: string;
    replicas?: number;
    selector: { matchLabels?: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string }; spec: { volumeMode?: string } }[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
  };
}
export interface ServiceView {
  metadata: { name: string };
  spec: {
    clusterIP?: string;
    selector?: Record<string, string>;
    ports: { name?: string; port: number; targetPort?: number | string }[];
  };
}
export interface ConfigMapView {
  metadata: { name: string };
  data?: Record<string, string>;
}

export function ofKind<T>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

/** Every container of a pod spec (init containers run with the same privileges, so they count). */
export function containersOf(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** true when every key/value of `selector` is in `labels`. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
