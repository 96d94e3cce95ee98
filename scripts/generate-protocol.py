#!/usr/bin/env python3
"""Generates Sources/KafkaProtocol/Generated/*.swift from Apache Kafka's message JSON specs.

    scripts/generate-protocol.py [--specs DIR] [--out DIR]

DIR defaults to ../shared/reference/kafka-message-specs (Kafka 3.7.0's clients/src/main/resources/common/message).
The output is committed; the specs are read only when regenerating. Generated: every API a ZooKeeper-mode
broker serves (listeners contain "zkBroker"), the request/response headers, the consumer protocol data
structures, and ApiMessageType.swift (the API table: keys, names, types, header versions).

Each message becomes a Swift struct with its fields as properties (defaults from the spec), nested structs
as nested types, `init(from:version:)` and `encode(to:version:)` following the spec's version, nullable,
flexible and tagged rules exactly (see ../shared/reference/protocol-notes.md sections 2-5).
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPECS = os.path.join(ROOT, "..", "shared", "reference", "kafka-message-specs")
DEFAULT_OUT = os.path.join(ROOT, "Sources", "KafkaProtocol", "Generated")
EXTRA_DATA = ["RequestHeader", "ResponseHeader", "ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
    "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static", "struct",
    "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else", "fallthrough",
    "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "Any", "catch", "false",
    "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Type",
}

PRIMITIVES = {
    "bool": ("Bool", "Bool", "false"),
    "int8": ("Int8", "Int8", "0"),
    "int16": ("Int16", "Int16", "0"),
    "int32": ("Int32", "Int32", "0"),
    "int64": ("Int64", "Int64", "0"),
    "uint16": ("UInt16", "UInt16", "0"),
    "uint32": ("UInt32", "UInt32", "0"),
    "float64": ("Double", "Float64", "0"),
    "uuid": ("KafkaUUID", "UUID", ".zero"),
}


class Versions:
    """An inclusive version range; hi None = open ended; empty when lo is None."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        text = (text or "none").strip()
        if text == "none":
            return Versions(None, None)
        if text.endswith("+"):
            return Versions(int(text[:-1]), None)
        if "-" in text:
            lo, hi = text.split("-")
            return Versions(int(lo), int(hi))
        return Versions(int(text), int(text))

    @property
    def empty(self):
        return self.lo is None

    def intersect(self, other):
        if self.empty or other.empty:
            return Versions(None, None)
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        if hi is not None and lo > hi:
            return Versions(None, None)
        return Versions(lo, hi)

    def condition(self, valid):
        """A Swift condition on `version` for this range, given the message's valid range.
        Returns "true", "false" or an expression."""
        within = self.intersect(valid)
        if within.empty:
            return "false"
        parts = []
        if within.lo > valid.lo:
            parts.append(f"version >= {within.lo}")
        if within.hi is not None and (valid.hi is None or within.hi < valid.hi):
            parts.append(f"version <= {within.hi}")
        return " && ".join(parts) if parts else "true"


def strip_comments(text):
    return re.sub(r"^\s*//.*$", "", text, flags=re.M)


def lower_camel(name):
    # "ThrottleTimeMs" -> "throttleTimeMs"; leading acronyms stay readable ("ISR" would be "iSR": none exist).
    result = name[0].lower() + name[1:]
    return f"`{result}`" if result in SWIFT_KEYWORDS else result


def swift_string_literal(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Field:
    def __init__(self, spec, message):
        self.name = spec["name"]
        self.prop = lower_camel(self.name)
        self.type = spec["type"]
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        self.is_struct = self.elem not in PRIMITIVES and self.elem not in ("string", "bytes", "records")
        self.versions = Versions.parse(spec.get("versions"))
        self.nullable = Versions.parse(spec.get("nullableVersions"))
        self.tagged = Versions.parse(spec.get("taggedVersions"))
        self.tag = spec.get("tag")
        self.ignorable = bool(spec.get("ignorable", False))
        self.default = spec.get("default")
        self.about = spec.get("about", "")
        override = spec.get("flexibleVersions")
        self.flexible_override = Versions.parse(override) if override is not None else None
        self.fields = [Field(f, message) for f in spec.get("fields", [])]
        if self.tag is not None and not self.tagged.empty:
            # A field is either tagged or positional in any given version.
            pass

    @property
    def optional(self):
        return self.elem == "records" or not self.nullable.empty

    def swift_type(self):
        if self.elem in PRIMITIVES:
            base = PRIMITIVES[self.elem][0]
        elif self.elem == "string":
            base = "String"
        elif self.elem == "bytes":
            base = "[UInt8]"
        elif self.elem == "records":
            base = "ByteBuffer"
        else:
            base = self.elem
        if self.is_array:
            base = f"[{base}]"
        return base + ("?" if self.optional else "")

    def default_expr(self):
        d = self.default
        if isinstance(d, bool):
            d = "true" if d else "false"
        if d is not None:
            d = str(d)
        if self.optional and (d == "null" or self.elem == "records"):
            return "nil"
        if self.is_array:
            return "[]"
        if self.is_struct:
            return ".init()"
        if self.elem == "string":
            return swift_string_literal(d) if d not in (None, "null") else '""'
        if self.elem == "bytes":
            return "[]"
        if self.elem == "bool":
            return (d or "false").lower()
        if self.elem == "uuid":
            return ".zero"
        if self.elem == "float64":
            return d if d else "0"
        if d is None or d == "":
            return "0"
        value = int(d, 0)
        if self.elem == "int32" and value == -2147483648:
            return "Int32.min"
        return str(value)


class Struct:
    def __init__(self, name, fields, about=""):
        self.name = name
        self.fields = fields
        self.about = about


class Message:
    def __init__(self, spec, specs_by_name):
        self.spec = spec
        self.name = spec["name"]
        self.kind = spec["type"]
        self.api_key = spec.get("apiKey")
        self.valid = Versions.parse(spec["validVersions"])
        self.flexible = Versions.parse(spec["flexibleVersions"])
        self.deprecated = Versions.parse(spec.get("deprecatedVersions"))
        self.fields = [Field(f, self) for f in spec["fields"]]
        self.common = {s["name"]: Struct(s["name"], [Field(f, self) for f in s["fields"]]) for s in spec.get("commonStructs", [])}


class Emitter:
    def __init__(self):
        self.lines = []
        self.level = 0

    def line(self, text=""):
        self.lines.append(("    " * self.level + text) if text else "")

    def indent(self):
        self.level += 1

    def dedent(self):
        self.level -= 1

    def text(self):
        return "\n".join(self.lines) + "\n"


def doc(em, text):
    text = " ".join(text.split())
    if text:
        em.line(f"/// {text}")


def read_value(field, elem_reader, compact, nullable_cond, version_valid, *, element=False):
    """A Swift expression reading one value of `field` (the element when element=True) from `elem_reader`."""
    name = f'"{field.name}"'
    kind = field.elem
    if element or not field.is_array:
        if kind in PRIMITIVES:
            return f"try {elem_reader}.read{PRIMITIVES[kind][1]}({name})"
        if kind == "string":
            if field.optional and not element:
                return f"try {elem_reader}.readNullableString({name}, compact: {compact}, nullable: {nullable_cond})"
            return f"try {elem_reader}.readString({name}, compact: {compact})"
        if kind == "bytes":
            if field.optional and not element:
                return f"try {elem_reader}.readNullableBytes({name}, compact: {compact}, nullable: {nullable_cond})"
            return f"try {elem_reader}.readBytes({name}, compact: {compact})"
        if kind == "records":
            return f"try {elem_reader}.readRecords({name}, compact: {compact})"
        if field.optional and not element:
            # Kafka writes a nullable struct behind an int8 marker: -1 for null, 1 when present.
            return f"try {elem_reader}.readInt8({name}) < 0 ? nil : {kind}(from: &{elem_reader}, version: version)"
        return f"try {kind}(from: &{elem_reader}, version: version)"
    inner = read_value(field, "r", compact, "false", version_valid, element=True)
    if field.optional:
        return f"try {elem_reader}.readNullableArray({name}, compact: {compact}, nullable: {nullable_cond}) {{ r in {inner} }}"
    return f"try {elem_reader}.readArray({name}, compact: {compact}) {{ r in {inner} }}"


def write_value(field, value, writer, compact, nullable_cond, *, element=False):
    name = f'"{field.name}"'
    kind = field.elem
    if element or not field.is_array:
        if kind in PRIMITIVES:
            return f"{writer}.write{PRIMITIVES[kind][1]}({value})"
        if kind == "string":
            if field.optional and not element:
                return f"try {writer}.writeNullableString({value}, {name}, compact: {compact}, nullable: {nullable_cond})"
            return f"try {writer}.writeString({value}, {name}, compact: {compact})"
        if kind == "bytes":
            if field.optional and not element:
                return f"try {writer}.writeNullableBytes({value}, {name}, compact: {compact}, nullable: {nullable_cond})"
            return f"try {writer}.writeBytes({value}, {name}, compact: {compact})"
        if kind == "records":
            return f"try {writer}.writeRecords({value}, {name}, compact: {compact})"
        if field.optional and not element:
            return (f"if let value = {value} {{ {writer}.writeInt8(1); try value.encode(to: &{writer}, version: version) }} "
                    f"else {{ {writer}.writeInt8(-1) }}")
        return f"try {value}.encode(to: &{writer}, version: version)"
    inner = write_value(field, "e", "w", compact, "false", element=True)
    if field.optional:
        return f"try {writer}.writeNullableArray({value}, {name}, compact: {compact}, nullable: {nullable_cond}) {{ w, e in {inner} }}"
    return f"try {writer}.writeArray({value}, {name}, compact: {compact}) {{ w, e in {inner} }}"


def emit_struct(em, struct, message, conformance, statics=None, emitted=None):
    """Emits one struct (message body, nested struct or common struct) and its nested types."""
    valid = message.valid
    flexible_possible = not message.flexible.intersect(valid).empty
    em.line(f"public struct {struct.name}: {conformance} {{")
    em.indent()
    for static in statics or []:
        em.line(static)
    if statics:
        em.line()
    for field in struct.fields:
        doc(em, field.about + (f" (versions {field.spec_versions()})" if False else ""))
        em.line(f"public var {field.prop}: {field.swift_type()} = {field.default_expr()}")
    if flexible_possible:
        em.line("/// Tagged fields this version of Ferry does not know; written back unchanged.")
        em.line("public var unknownTaggedFields: [TaggedField] = []")
    em.line()

    # Memberwise initializer with every field defaulted.
    params = [f"{f.prop.strip('`')}: {f.swift_type()} = {f.default_expr()}" for f in struct.fields]
    if params:
        em.line("public init(")
        em.indent()
        for index, p in enumerate(params):
            em.line(p + ("," if index < len(params) - 1 else ""))
        em.dedent()
        em.line(") {")
        em.indent()
        for f in struct.fields:
            em.line(f"self.{f.prop} = {f.prop}")
        em.dedent()
        em.line("}")
    else:
        em.line("public init() {}")
    em.line()

    flexible_cond = message.flexible.condition(valid)

    def compact_for(field):
        if field.flexible_override is not None:
            return field.flexible_override.intersect(message.flexible).condition(valid)
        return "flexible"

    positional = []
    tagged = []
    for f in struct.fields:
        if f.tag is not None:
            tagged.append(f)
            positional_versions = None  # tagged fields are never positional in these specs
        else:
            positional.append(f)

    # Decoder
    em.line("public init(from reader: inout KafkaReader, version: Int16) throws {")
    em.indent()
    uses_flexible = any(compact_for(f) == "flexible" for f in positional if f.elem in ("string", "bytes", "records") or f.is_array) or (flexible_possible)
    if uses_flexible:
        em.line(f"let flexible = {flexible_cond}")
    for f in positional:
        cond = f.versions.condition(valid)
        if cond == "false":
            continue
        compact = compact_for(f)
        expr = read_value(f, "reader", compact, f.nullable.condition(valid), valid)
        if cond == "true":
            em.line(f"self.{f.prop} = {expr}")
        else:
            em.line(f"if {cond} {{ self.{f.prop} = {expr} }}")
    if flexible_possible:
        em.line("if flexible {")
        em.indent()
        if tagged:
            em.line('self.unknownTaggedFields = try reader.readTaggedFields("TaggedFields") { tag, value in')
            em.indent()
            em.line("switch tag {")
            for f in sorted(tagged, key=lambda f: f.tag):
                cond = f.tagged.condition(valid)
                where = "" if cond == "true" else f" where {cond}"
                expr = read_value(f, "value", "true", f.nullable.condition(valid), valid)
                em.line(f"case {f.tag}{where}: self.{f.prop} = {expr}")
            em.line("default: return false")
            em.line("}")
            em.line("return true")
            em.dedent()
            em.line("}")
        else:
            em.line('self.unknownTaggedFields = try reader.readTaggedFields("TaggedFields") { _, _ in false }')
        em.dedent()
        em.line("}")
    em.dedent()
    em.line("}")
    em.line()

    # Encoder
    em.line("public func encode(to writer: inout KafkaWriter, version: Int16) throws {")
    em.indent()
    if uses_flexible:
        em.line(f"let flexible = {flexible_cond}")
    for f in positional:
        cond = f.versions.condition(valid)
        compact = compact_for(f)
        stmt = write_value(f, f"self.{f.prop}", "writer", compact, f.nullable.condition(valid))
        guard_default = None
        if not f.ignorable and cond != "true":
            guard_default = (
                f"if self.{f.prop} != {f.default_expr()} {{ throw KafkaProtocolError(.fieldNotInVersion(version), field: \"{struct.name}.{f.name}\") }}"
            )
        if cond == "true":
            em.line(stmt)
        elif cond == "false":
            if guard_default:
                em.line(guard_default)
        else:
            em.line(f"if {cond} {{")
            em.indent()
            em.line(stmt)
            em.dedent()
            if guard_default:
                em.line("} else " + guard_default)
            else:
                em.line("}")
    if flexible_possible:
        em.line("if flexible {")
        em.indent()
        em.line("var tagged = TaggedFieldsWriter()")
        for f in sorted(tagged, key=lambda f: f.tag):
            cond = f.tagged.condition(valid)
            present = f"self.{f.prop} != {f.default_expr()}"
            full = present if cond == "true" else f"{cond}, {present}"
            stmt = write_value(f, f"self.{f.prop}", "w", "true", f.nullable.condition(valid))
            call = "try tagged.append" if ("try " in stmt) else "tagged.append"
            em.line(f"if {full} {{ {call}(tag: {f.tag}) {{ w in {stmt} }} }}")
        em.line("tagged.append(unknown: self.unknownTaggedFields)")
        em.line("tagged.write(to: &writer)")
        em.dedent()
        em.line("}")
    em.dedent()
    em.line("}")

    # Nested struct types declared inline.
    for f in struct.fields:
        if f.is_struct and f.fields:
            if f.elem in emitted:
                continue
            emitted.add(f.elem)
            em.line()
            doc(em, f.about)
            emit_struct(em, Struct(f.elem, f.fields), message, "KafkaStruct", emitted=emitted)
    em.dedent()
    em.line("}")


def sample_value(field, counter, *, element=False):
    """A Swift expression for a non-default sample value of field (element when element=True)."""
    n = counter[0] = counter[0] + 1
    kind = field.elem
    if field.is_array and not element:
        one = sample_value(field, counter, element=True)
        two = sample_value(field, counter, element=True)
        return f"[{one}, {two}]"
    if kind == "bool":
        return "true"
    if kind in ("int8", "int16", "int32", "int64", "uint16", "uint32"):
        limits = {"int8": 100, "int16": 30000, "int32": 2_000_000, "int64": 9_000_000_000, "uint16": 60000, "uint32": 4_000_000}
        return str(limits[kind] + n if kind not in ("int8",) else (n % 100) + 1)
    if kind == "float64":
        return f"{n}.5"
    if kind == "uuid":
        return f"KafkaUUID(high: {n}, low: {n * 7})"
    if kind == "string":
        return f'"{field.name.lower()}-{n}"'
    if kind == "bytes":
        return f"[{n % 256}, 0, 255]"
    if kind == "records":
        return f"ByteBuffer(bytes: [0, {n % 256}, 2, 3])"
    return ".sample(version: version, nulls: nulls)"


def emit_samples(em, struct, qualified, message, emitted):
    valid = message.valid
    em.line(f"extension {qualified}: SampleProviding {{")
    em.indent()
    em.line("static func sample(version: Int16, nulls: Bool) -> Self {")
    em.indent()
    em.line("var value = Self()")
    counter = [0]
    for f in struct.fields:
        present = f.tagged.condition(valid) if f.tag is not None else f.versions.condition(valid)
        if present == "false":
            continue
        value = sample_value(f, counter)
        nullable = f.nullable.condition(valid)
        stmt = f"value.{f.prop} = {value}"
        if f.optional and f.elem != "records" and nullable != "false":
            null_cond = "nulls" if nullable == "true" else f"nulls && {nullable}"
            stmt = f"if {null_cond} {{ value.{f.prop} = nil }} else {{ {stmt} }}"
        em.line(stmt if present == "true" else f"if {present} {{ {stmt} }}")
    em.line("return value")
    em.dedent()
    em.line("}")
    em.dedent()
    em.line("}")
    for f in struct.fields:
        if f.is_struct and f.fields and f.elem not in emitted:
            emitted.add(f.elem)
            emit_samples(em, Struct(f.elem, f.fields), f"{qualified}.{f.elem}", message, emitted)


def generate_samples(messages):
    em = Emitter()
    em.line("// NOTE: THIS FILE IS GENERATED by scripts/generate-protocol.py. DO NOT EDIT.")
    em.line("// Test values with every field a version carries set to a non-default value.")
    em.line()
    em.line("import KafkaModel")
    em.line("import KafkaProtocol")
    em.line("import NIOCore")
    em.line()
    em.line("/// Every generated top-level message, for tests that sweep all of them.")
    em.line("var allGeneratedMessages: [any (KafkaMessage & SampleProviding).Type] {")
    em.indent()
    em.line("[")
    em.indent()
    for m in messages:
        em.line(f"{m.name}.self,")
    em.dedent()
    em.line("]")
    em.dedent()
    em.line("}")
    for m in messages:
        em.line()
        emitted = set()
        emit_samples(em, Struct(m.name, m.fields), m.name, m, emitted)
        for name, struct in m.common.items():
            if name not in emitted:
                emitted.add(name)
                emit_samples(em, struct, f"{m.name}.{name}", m, emitted)
    return em.text()


def api_case(message_name):
    base = re.sub(r"(Request|Response)$", "", message_name)
    return lower_camel(base)


def generate_message(message, source_name):
    em = Emitter()
    em.line(f"// NOTE: THIS FILE IS GENERATED by scripts/generate-protocol.py from {source_name}. DO NOT EDIT.")
    em.line("// The message schema is Apache Kafka 3.7.0's (Apache License 2.0).")
    em.line()
    em.line("import KafkaModel")
    em.line("import NIOCore")
    em.line()
    statics = []
    if message.kind in ("request", "response"):
        conformance = "KafkaRequest" if message.kind == "request" else "KafkaResponse"
        statics.append(f"public static let apiKey: ApiKey = .{api_case(message.name).strip('`')}")
        if message.kind == "request":
            statics.append(f"public typealias Response = {message.name[:-len('Request')]}Response")
    else:
        conformance = "KafkaMessage"
    hi = message.valid.hi if message.valid.hi is not None else message.valid.lo
    statics.append(f"public static let validVersions: ClosedRange<Int16> = {message.valid.lo}...{hi}")
    flex = message.flexible.intersect(message.valid)
    statics.append(f"public static let lowestFlexibleVersion: Int16? = {'nil' if flex.empty else flex.lo}")
    if not message.deprecated.empty:
        statics.append(
            f"/// Versions Kafka 3.7 still accepts but 4.0 removes (KIP-896).\n    public static let deprecatedVersions: ClosedRange<Int16> = {message.deprecated.lo}...{message.deprecated.hi}"
        )
    about = message.spec.get("about", "")
    if about:
        doc(em, about)
    emitted = set()
    # Common structs are declared inside the message, like nested ones.
    em_common = []
    emit_struct(em, Struct(message.name, message.fields), message, conformance, statics, emitted)
    if message.common:
        em.lines.pop()  # reopen the struct to add common structs inside it
        em.indent()
        for name, struct in message.common.items():
            if name in emitted:
                continue
            emitted.add(name)
            em.line()
            emit_struct(em, struct, message, "KafkaStruct", emitted=emitted)
        em.dedent()
        em.line("}")
    return em.text()


def generate_api_table(requests, responses):
    em = Emitter()
    em.line("// NOTE: THIS FILE IS GENERATED by scripts/generate-protocol.py from the Kafka message specs. DO NOT EDIT.")
    em.line()
    em.line("import KafkaModel")
    em.line()
    em.line("/// The APIs a ZooKeeper-mode broker serves, with their message types and header versions.")
    em.line("public enum ApiMessageType {")
    em.indent()
    em.line("/// The request type of `key`.")
    em.line("public static func requestType(_ key: ApiKey) -> any KafkaRequest.Type {")
    em.indent()
    em.line("switch key {")
    for key, req in sorted(requests.items()):
        em.line(f"case .{api_case(req.name).strip('`')}: {req.name}.self")
    em.line("}")
    em.dedent()
    em.line("}")
    em.line()
    em.line("/// The request header version for `key` at `version`: 2 for flexible versions, else 1;")
    em.line("/// ControlledShutdown v0 alone uses header v0.")
    em.line("public static func requestHeaderVersion(_ key: ApiKey, version: Int16) -> Int16 {")
    em.indent()
    em.line("if key == .controlledShutdown && version == 0 { return 0 }")
    em.line("return self.requestType(key).isFlexible(version) ? 2 : 1")
    em.dedent()
    em.line("}")
    em.line()
    em.line("/// The response header version for `key` at `version`: 1 for flexible versions, else 0;")
    em.line("/// ApiVersions responses always use v0 (KIP-511), so a client can read them before it knows the versions.")
    em.line("public static func responseHeaderVersion(_ key: ApiKey, version: Int16) -> Int16 {")
    em.indent()
    em.line("if key == .apiVersions { return 0 }")
    em.line("return self.requestType(key).isFlexible(version) ? 1 : 0")
    em.dedent()
    em.line("}")
    em.dedent()
    em.line("}")
    return em.text()


def generate_api_keys(requests):
    em = Emitter()
    em.line("// NOTE: THIS FILE IS GENERATED by scripts/generate-protocol.py from the Kafka message specs. DO NOT EDIT.")
    em.line()
    em.line("/// The Kafka API keys a ZooKeeper-mode broker serves (Apache Kafka 3.7.0).")
    em.line("public enum ApiKey: Int16, CaseIterable, Hashable, Sendable, CustomStringConvertible {")
    em.indent()
    for key, req in sorted(requests.items()):
        em.line(f"case {api_case(req.name)} = {key}")
    em.line()
    em.line("/// The API's name as Kafka spells it (`Produce`, `ApiVersions`).")
    em.line("public var name: String {")
    em.indent()
    em.line("switch self {")
    for key, req in sorted(requests.items()):
        em.line(f'case .{api_case(req.name).strip("`")}: "{req.name[:-len("Request")]}"')
    em.line("}")
    em.dedent()
    em.line("}")
    em.line()
    em.line("public var description: String { \"\\(self.name)(\\(self.rawValue))\" }")
    em.dedent()
    em.line("}")
    return em.text()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", default=DEFAULT_SPECS)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    if not os.path.isdir(args.specs):
        sys.exit(f"generate-protocol: no specs at {args.specs}")

    specs = {}
    for file in sorted(os.listdir(args.specs)):
        if file.endswith(".json"):
            with open(os.path.join(args.specs, file)) as handle:
                specs[file[:-5]] = json.loads(strip_comments(handle.read()))

    selected = []
    requests, responses = {}, {}
    for name, spec in specs.items():
        if spec["type"] == "request" and "zkBroker" in spec.get("listeners", []):
            response_name = name[: -len("Request")] + "Response"
            selected += [name, response_name]
            requests[spec["apiKey"]] = Message(spec, specs)
            responses[spec["apiKey"]] = Message(specs[response_name], specs)
    selected += EXTRA_DATA

    os.makedirs(args.out, exist_ok=True)
    written = set()
    for name in sorted(set(selected)):
        message = Message(specs[name], specs)
        path = os.path.join(args.out, f"{name}.swift")
        with open(path, "w") as handle:
            handle.write(generate_message(message, f"{name}.json"))
        written.add(f"{name}.swift")
    with open(os.path.join(args.out, "ApiMessageType.swift"), "w") as handle:
        handle.write(generate_api_table(requests, responses))
    written.add("ApiMessageType.swift")
    model_dir = os.path.join(os.path.dirname(os.path.dirname(args.out)), "KafkaModel", "Generated")
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "ApiKey.swift"), "w") as handle:
        handle.write(generate_api_keys(requests))
    samples_dir = os.path.join(ROOT, "Tests", "KafkaProtocolTests", "Generated")
    os.makedirs(samples_dir, exist_ok=True)
    all_messages = [Message(specs[name], specs) for name in sorted(set(selected))]
    with open(os.path.join(samples_dir, "Samples.swift"), "w") as handle:
        handle.write(generate_samples(all_messages))
    for stale in set(os.listdir(args.out)) - written:
        os.remove(os.path.join(args.out, stale))
    print(f"generate-protocol: wrote {len(written)} files to {os.path.relpath(args.out, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
