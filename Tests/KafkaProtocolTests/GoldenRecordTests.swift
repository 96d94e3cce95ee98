import KafkaModel
import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// The record data inside the captured frames: what real producers wrote and a peer broker served, in every
/// codec and in the legacy formats.
@Suite struct GoldenRecordTests {
    static let produceRequests = GoldenFrame.all.filter { $0.apiKey == .produce && $0.isRequest }
    static let fetchResponses = GoldenFrame.all.filter {
        $0.apiKey == .fetch && !$0.isRequest && FetchRequest.validVersions.contains($0.version)
    }

    @Test func producersOfEveryCodecAndFormatWereCaptured() {
        let variants = Set(Self.produceRequests.compactMap { $0.client.split(separator: "_").last.map(String.init) })
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"] { #expect(variants.contains("magic2-\(codec)")) }
        #expect(variants.isSuperset(of: ["magic0-none", "magic0-gzip", "magic1-none", "magic1-gzip"]))
    }

    @Test(arguments: Self.produceRequests)
    func everyProducedBatchValidatesAndDecodes(frame: GoldenFrame) throws {
        let request = try KafkaRequestFrame(parsing: frame.bytes).decodeBody(as: ProduceRequest.self)
        let variant = try #require(frame.client.split(separator: "_").last.map(String.init))
        var records = 0
        for partition in request.topicData.flatMap(\.partitionData) {
            let bytes = try #require(partition.records)
            if variant.hasPrefix("magic2") {
                for batch in try RecordSet(bytes).batches() {
                    try batch.validate()
                    #expect("magic2-\(try batch.attributes.compressionCodec())" == variant)
                    let decoded = try batch.records()
                    #expect(decoded.count == Int(batch.recordsCount))
                    #expect(decoded.allSatisfy { $0.value != nil })
                    records += decoded.count
                }
            } else {
                let (messages, partial) = try LegacyMessageSet.decode(bytes)
                #expect(partial == 0)
                #expect(messages.allSatisfy { "magic\($0.magic)" == variant.prefix(6) })
                records += messages.count
            }
        }
        #expect(records > 0, "\(frame) carried no records")
    }

    @Test(arguments: Self.fetchResponses)
    func everyFetchedBatchValidatesAndDecodes(frame: GoldenFrame) throws {
        let response = try KafkaResponseDecoder.decode(frame.bytes, as: FetchResponse.self, version: frame.version).response
        for partition in response.responses.flatMap(\.partitions) {
            guard let bytes = partition.records else { continue }
            // A fetch may end in a partial batch; every whole one must be valid.
            for entry in try RecordSet(bytes).entries().entries {
                guard case .batch(let batch) = entry else { continue }
                try batch.validate()
                #expect(try batch.records().count == Int(batch.recordsCount))
            }
        }
    }
}
