import Foundation
import Logging

/// swift-log's `StreamLogHandler` line to stderr, with the time to the millisecond (Kafka's log4j pattern has
/// milliseconds too): failovers and rebalances happen within a second, and a broker's log should show their order
/// and their gaps.
struct ConsoleLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        let pretty = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        var line = "\(Self.timestamp()) \(event.level) \(self.label):\(pretty) [\(event.source)] \(event.message)\n"
        // One write(2) per line, so lines from concurrent tasks never interleave.
        line.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    /// `2026-11-22T14:31:26.123+0000`, local time as StreamLogHandler prints it.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var local = tm()
        localtime_r(&seconds, &local)
        func format(_ pattern: String) -> String {
            var buffer = [UInt8](repeating: 0, count: 64)
            let length = buffer.withUnsafeMutableBufferPointer { strftime($0.baseAddress, $0.count, pattern, &local) }
            return String(decoding: buffer[..<length], as: UTF8.self)
        }
        let millis = Int(now.tv_nsec / 1_000_000)
        return format("%Y-%m-%dT%H:%M:%S") + (millis < 10 ? ".00" : millis < 100 ? ".0" : ".") + String(millis) + format("%z")
    }
}
