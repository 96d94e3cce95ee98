import KafkaModel
import KafkaProtocol
import LogStorage

// DescribeLogDirs (API key 35). Supported: v0...v4.
// Behaviour: every directory of `log.dirs` with the logs it holds (all, or those of the requested partitions that
// are here) and each log's size; v4 adds the file system's total and usable bytes. The offset lag is Kafka's
// max(high watermark - log end offset, 0), always 0 for a broker's own logs: only the "future" logs of a move
// between directories lag, and Ferry does not move logs between directories.
struct DescribeLogDirsHandler: KafkaRequestHandler {
    typealias Request = DescribeLogDirsRequest
    static let versions: ClosedRange<Int16> = 0...4

    let storage: LogService

    func handle(_ request: DescribeLogDirsRequest, context: RequestContext) async throws -> DescribeLogDirsResponse? {
        // A null topic list asks for every partition; an empty one for none.
        let wanted: [String: Set<Int32>]? = request.topics.map { topics in
            topics.reduce(into: [:]) { result, topic in result[topic.topic, default: []].formUnion(topic.partitions) }
        }
        var response = DescribeLogDirsResponse()
        for usage in await self.storage.directoryUsage() {
            var result = DescribeLogDirsResponse.DescribeLogDirsResult(logDir: usage.directory)
            let logs = usage.logs.filter { wanted?[$0.partition.topic]?.contains($0.partition.partition) ?? (wanted == nil) }
            var topics: [String: [DescribeLogDirsResponse.DescribeLogDirsResult.DescribeLogDirsTopic.DescribeLogDirsPartition]] = [:]
            for log in logs {
                topics[log.partition.topic, default: []].append(.init(partitionIndex: log.partition.partition, partitionSize: log.sizeInBytes, offsetLag: 0, isFutureKey: false))
            }
            result.topics = topics.keys.sorted().map { .init(name: $0, partitions: topics[$0]!) }
            if context.version >= 4 {
                result.totalBytes = usage.totalBytes ?? -1
                result.usableBytes = usage.usableBytes ?? -1
            }
            response.results.append(result)
        }
        return response
    }
}
