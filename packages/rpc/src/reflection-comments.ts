import { createRequire } from "node:module";
import path from "node:path";
import type {
  IDescriptorProto,
  IEnumDescriptorProto,
  IFileDescriptorProto,
  IServiceDescriptorProto,
} from "protobufjs/ext/descriptor";
import { BLOCKSHIP_PROTO_FILES, PROTO_ROOT } from "./proto-files";

// proto-loader's descriptors carry no source_code_info, so `grpcurl describe` would show
// our messages without the comments that document units, ranges and error reasons. We
// re-parse the .proto files with protobufjs (comments kept) and attach each element's
// comment as a SourceCodeInfo location (leading comment, placeholder span) to the
// descriptors served by reflection.

const require = createRequire(import.meta.url);
const protobuf: typeof import("protobufjs") = require("protobufjs");

interface Location {
  path: number[];
  span: number[];
  leadingComments: string;
}

// Field numbers of descriptor.proto used in SourceCodeInfo paths.
const FILE_MESSAGE_TYPE = 4;
const FILE_ENUM_TYPE = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED_TYPE = 3;
const MESSAGE_ENUM_TYPE = 4;
const MESSAGE_ONEOF_DECL = 8;
const ENUM_VALUE = 2;
const SERVICE_METHOD = 2;

let commentRoot: import("protobufjs").Root | undefined;

function loadCommentRoot(): import("protobufjs").Root {
  if (commentRoot === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) =>
      path.isAbsolute(target) ? target : path.join(PROTO_ROOT, target);
    root.loadSync([...BLOCKSHIP_PROTO_FILES], { keepCase: true, alternateCommentMode: true });
    commentRoot = root;
  }
  return commentRoot;
}

/** Adds our proto comments to a (decoded) file descriptor of package blockship.*; returns whether any was added. */
export function addSourceComments(file: IFileDescriptorProto): boolean {
  if (!file.package?.startsWith("blockship.")) return false;
  const root = loadCommentRoot();
  const locations: Location[] = [];
  const add = (pathSegments: number[], comment: string | null | undefined) => {
    if (comment === null || comment === undefined || comment === "") return;
    const text = comment
      .split("\n")
      .map((line) => ` ${line}`.trimEnd())
      .join("\n");
    locations.push({ path: pathSegments, span: [0, 0, 0], leadingComments: `${text}\n` });
  };
  const lookup = (fqn: string) => root.lookup(fqn) as (import("protobufjs").ReflectionObject & object) | null;

  const visitEnum = (e: IEnumDescriptorProto, fqn: string, at: number[]) => {
    const reflected = lookup(fqn);
    add(at, reflected?.comment);
    const comments = reflected instanceof protobuf.Enum ? reflected.comments : {};
    (e.value ?? []).forEach((v, i) => {
      add([...at, ENUM_VALUE, i], v.name === undefined ? undefined : comments[v.name]);
    });
  };
  const visitMessage = (m: IDescriptorProto, fqn: string, at: number[]) => {
    add(at, lookup(fqn)?.comment);
    (m.field ?? []).forEach((f, i) => {
      add([...at, MESSAGE_FIELD, i], lookup(`${fqn}.${f.name}`)?.comment);
    });
    (m.oneofDecl ?? []).forEach((o, i) => {
      add([...at, MESSAGE_ONEOF_DECL, i], lookup(`${fqn}.${o.name}`)?.comment);
    });
    (m.nestedType ?? []).forEach((n, i) => {
      visitMessage(n, `${fqn}.${n.name}`, [...at, MESSAGE_NESTED_TYPE, i]);
    });
    (m.enumType ?? []).forEach((e, i) => {
      visitEnum(e, `${fqn}.${e.name}`, [...at, MESSAGE_ENUM_TYPE, i]);
    });
  };
  const visitService = (s: IServiceDescriptorProto, fqn: string, at: number[]) => {
    add(at, lookup(fqn)?.comment);
    (s.method ?? []).forEach((m, i) => {
      add([...at, SERVICE_METHOD, i], lookup(`${fqn}.${m.name}`)?.comment);
    });
  };

  const pkg = file.package;
  (file.messageType ?? []).forEach((m, i) => {
    visitMessage(m, `${pkg}.${m.name}`, [FILE_MESSAGE_TYPE, i]);
  });
  (file.enumType ?? []).forEach((e, i) => {
    visitEnum(e, `${pkg}.${e.name}`, [FILE_ENUM_TYPE, i]);
  });
  (file.service ?? []).forEach((s, i) => {
    visitService(s, `${pkg}.${s.name}`, [FILE_SERVICE, i]);
  });
  if (locations.length === 0) return false;
  (file as { sourceCodeInfo?: { location: Location[] } }).sourceCodeInfo = { location: locations };
  return true;
}
