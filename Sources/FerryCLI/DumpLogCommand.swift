import ArgumentParser
import Foundation
import KafkaRecords
import LogStorage
import NIOCore

/// `kafka-dump-log.sh --files <segment>.log[,...] [--print-data-log] [--deep-iteration]`: prints the batches of
/// log segment files, and with `--deep-iteration` or `--print-data-log` their records, in Kafka's format.
/// Offline: it reads the files directly, so it works on a stopped broker's logs.
struct DumpLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-log",
        abstract: "Print the record batches of log segment files (kafka-dump-log.sh)."
    )

    @Option(name: .customLong("files"), help: "Comma-separated segment files (.log) to dump.")
    var files: String

    @Flag(name: .customLong("print-data-log"), help: "Print each record's key and payload (implies --deep-iteration).")
    var printDataLog = false

    @Flag(name: .customLong("deep-iteration"), help: "Print each record, not only each batch.")
    var deepIteration = false

    func run() throws {
        var failed = false
        for path in self.files.split(separator: ",").map(String.init) {
            do {
                for line in try Self.dump(path: path, records: self.deepIteration || self.printDataLog, payload: self.printDataLog) {
                    print(line)
                }
            } catch {
                FileHandle.standardError.write(Data("Could not dump \(path): \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// The lines Kafka's tool prints for one segment file.
    static func dump(path: String, records: Bool, payload: Bool) throws -> [String] {
        let file = try LogFile(path: path, create: false)
        let size = try file.size()
        let base = Int64(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) ?? 0
        var lines = ["Dumping \(path)", "Log starting offset: \(base)"]
        var position: Int64 = 0
        while position + 17 <= size {
            let head = try file.read(at: position, length: 17)
            let length = Int(head.getInteger(at: 8, endianness: .big, as: Int32.self)!)
            guard length > 0, position + 12 + Int64(length) <= size else {
                lines.append("Found \(size - position) invalid bytes at the end of \(path) (position \(position))")
                break
            }
            let bytes = try file.read(at: position, length: 12 + length)
            guard head.getInteger(at: 16, as: Int8.self) == 2, let batch = try? RecordBatch(bytes) else {
                lines.append("Found a batch that is not magic 2 or is malformed at position \(position)")
                break
            }
            lines.append(Self.describe(batch, position: position))
            if records { lines += Self.describeRecords(of: batch, payload: payload) }
            position += Int64(batch.sizeInBytes)
        }
        return lines
    }

    static func describe(_ batch: RecordBatch, position: Int64) -> String {
        let attributes = batch.attributes
        let lastSequence = batch.baseSequence < 0 ? -1 : batch.baseSequence + batch.lastOffsetDelta
        let timestampName = attributes.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        let codec = (try? attributes.compressionCodec().description) ?? "unknown"
        let valid = (try? batch.validate()) != nil
        return "baseOffset: \(batch.baseOffset) lastOffset: \(batch.lastOffset) count: \(batch.recordsCount) "
            + "baseSequence: \(batch.baseSequence) lastSequence: \(lastSequence) producerId: \(batch.producerId) "
            + "producerEpoch: \(batch.producerEpoch) partitionLeaderEpoch: \(batch.partitionLeaderEpoch) "
            + "isTransactional: \(attributes.isTransactional) isControl: \(attributes.isControl) "
            + "deleteHorizonMs: OptionalLong.empty position: \(position) \(timestampName): \(batch.maxTimestamp) "
            + "size: \(batch.sizeInBytes) magic: \(batch.magic) compresscodec: \(codec) crc: \(batch.crc) isvalid: \(valid)"
    }

    static func describeRecords(of batch: RecordBatch, payload: Bool) -> [String] {
        guard let records = try? batch.records() else { return ["| (records could not be decoded)"] }
        let timestampName = batch.attributes.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        return records.map { record in
            let timestamp = batch.attributes.timestampType == .logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + record.timestampDelta
            let sequence = batch.baseSequence < 0 ? -1 : batch.baseSequence + record.offsetDelta
            var line = "| offset: \(batch.baseOffset + Int64(record.offsetDelta)) \(timestampName): \(timestamp) "
                + "keySize: \(record.key?.readableBytes ?? -1) valueSize: \(record.value?.readableBytes ?? -1) "
                + "sequence: \(sequence) headerKeys: [\(record.headers.map(\.key).joined(separator: ","))]"
            if payload {
                if let key = record.key { line += " key: \(String(buffer: key))" }
                line += " payload: \(record.value.map { String(buffer: $0) } ?? "null")"
            }
            return line
        }
    }
}
