import { createRequire } from "node:module";
import type { Server } from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type { IDescriptorProto, IFileDescriptorProto } from "protobufjs/ext/descriptor";
import { addSourceComments } from "./reflection-comments";

// Server reflection (grpc.reflection.v1 and v1alpha) from @grpc/reflection, fed with the
// file descriptors of our loaded package definition, fixed up in two ways:
//
// 1. Our proto comments are attached as source_code_info (see reflection-comments.ts), so
//    `grpcurl describe` shows the documentation.
// 2. Map entry names.
//    protobufjs names a map field's synthetic entry message after the field ("Statuses")
//    where protoc names it "<Field>Entry" ("StatusesEntry"). Go-based clients (buf curl,
//    grpcurl) validate that rule and reject the whole file, so a proto with a map field
//    (grpc.health.v1 has one, in List) would be unusable through reflection. We rename them.
//
// The fixes apply to a copy of the descriptors handed to the reflection service only.

const require = createRequire(import.meta.url);
const descriptor: typeof import("protobufjs/ext/descriptor") = require("protobufjs/ext/descriptor");

export function addReflection(
  server: Server,
  packageDefinition: PackageDefinition,
  services: string[],
): void {
  new ReflectionService(reflectablePackageDefinition(packageDefinition), { services }).addToServer(server);
}

/** A copy of `packageDefinition` whose file descriptors carry comments and protoc's map-entry names. */
export function reflectablePackageDefinition(packageDefinition: PackageDefinition): PackageDefinition {
  const fixed = new Map<Buffer, Buffer>();
  const fix = (bin: Buffer): Buffer => {
    let out = fixed.get(bin);
    if (out === undefined) {
      out = fixDescriptor(bin);
      fixed.set(bin, out);
    }
    return out;
  };
  const copy: PackageDefinition = {};
  for (const [name, entry] of Object.entries(packageDefinition)) {
    const protos = (entry as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
    copy[name] = Array.isArray(protos)
      ? ({ ...entry, fileDescriptorProtos: (protos as Buffer[]).map(fix) } as typeof entry)
      : entry;
  }
  return copy;
}

function fixDescriptor(bin: Buffer): Buffer {
  const message = descriptor.FileDescriptorProto.decode(bin);
  const file = descriptor.FileDescriptorProto.toObject(message) as IFileDescriptorProto;
  let changed = addSourceComments(file);
  const visit = (msg: IDescriptorProto): void => {
    for (const nested of msg.nestedType ?? []) {
      visit(nested);
      if (nested.options?.mapEntry !== true || nested.name === undefined) continue;
      const oldName = nested.name;
      const field = (msg.field ?? []).find(
        (f) => f.typeName === oldName || f.typeName?.endsWith(`.${msg.name}.${oldName}`),
      );
      if (field?.name === undefined || field.typeName === undefined) continue;
      const newName = `${camelCase(field.name)}Entry`;
      if (newName === oldName) continue;
      nested.name = newName;
      field.typeName = field.typeName.slice(0, field.typeName.length - oldName.length) + newName;
      changed = true;
    }
  };
  for (const msg of file.messageType ?? []) visit(msg);
  if (!changed) return bin;
  return Buffer.from(
    descriptor.FileDescriptorProto.encode(descriptor.FileDescriptorProto.fromObject(file)).finish(),
  );
}

function camelCase(fieldName: string): string {
  return fieldName
    .split("_")
    .filter((part) => part !== "")
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}
