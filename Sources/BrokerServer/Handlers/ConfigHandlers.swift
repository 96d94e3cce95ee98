import KafkaModel
import KafkaProtocol

// DescribeConfigs (API key 32, v0...v4), AlterConfigs (33, v0...v2), IncrementalAlterConfigs (44, v0...v1).
// Behaviour (Kafka's ZooKeeper mode, see ConfigManager): any broker answers. TOPIC resources list all 31
// topic-level configs with the topic's override (source TOPIC_CONFIG) or the broker's value (STATIC_BROKER_CONFIG if
// set in server.properties, else DEFAULT_CONFIG), never read-only; an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION.
// Changes are validated like Kafka's LogConfig (unknown name or bad value: INVALID_CONFIG), written to
// /config/topics/<t> with a /config/changes notification, and applied by every broker hosting the topic.
// AlterConfigs replaces a topic's overrides; IncrementalAlterConfigs applies SET/DELETE/APPEND/SUBTRACT to them.
// BROKER resources describe this broker's settings with their sources (DYNAMIC_BROKER_CONFIG,
// DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG); the keys in TopicConfigRules.dynamicBrokerKeys
// can be altered (for this broker, or every broker with an empty name) and are written to /config/brokers/<id> or
// <default> with a notification; other keys are refused with INVALID_REQUEST as Kafka refuses static configs.
// Deviations: no BROKER_LOGGER; Kafka's other dynamic keys (threads, listeners, quotas) are refused;
// cleanup.policy=compact, min/max.compaction.lag.ms, delete.retention.ms and min.cleanable.dirty.ratio are applied by
// the log cleaner (LogCleaner).

struct DescribeConfigsHandler: KafkaRequestHandler {
    typealias Request = DescribeConfigsRequest
    static let versions: ClosedRange<Int16> = 0...4

    let configs: ConfigManager

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) async throws -> DescribeConfigsResponse? {
        var response = DescribeConfigsResponse()
        for resource in request.resources {
            var result = DescribeConfigsResponse.DescribeConfigsResult(resourceType: resource.resourceType, resourceName: resource.resourceName)
            do {
                let entries = try await self.configs.describe(type: resource.resourceType, name: resource.resourceName, keys: resource.configurationKeys)
                result.configs = entries.map { entry in
                    var config = DescribeConfigsResponse.DescribeConfigsResult.DescribeConfigsResourceResult(
                        name: entry.name, value: entry.value, readOnly: entry.readOnly, isSensitive: entry.isSensitive)
                    if context.version == 0 { config.isDefault = entry.source == ConfigManager.defaultConfigSource }
                    if context.version >= 1 {
                        config.configSource = entry.source
                        if request.includeSynonyms {
                            config.synonyms = entry.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source) }
                        }
                    }
                    if context.version >= 3 {
                        config.configType = entry.type
                        config.documentation = nil
                    }
                    return config
                }
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            response.results.append(result)
        }
        return response
    }
}

/// Results for each resource of an alter request, in request order; a resource named twice fails both times.
private func alterEach<Resource>(
    _ resources: [Resource], key: (Resource) -> String,
    _ alter: (Resource) async throws(ConfigManager.Failure) -> Void
) async -> [(code: ErrorCode, message: String?)] {
    let counts = Dictionary(resources.map { (key($0), 1) }, uniquingKeysWith: +)
    var results: [(code: ErrorCode, message: String?)] = []
    for resource in resources {
        guard counts[key(resource)] == 1 else {
            results.append((.invalidRequest, "Each resource must appear at most once."))
            continue
        }
        do {
            try await alter(resource)
            results.append((.none, nil))
        } catch {
            results.append((error.code, error.message))
        }
    }
    return results
}

struct AlterConfigsHandler: KafkaRequestHandler {
    typealias Request = AlterConfigsRequest
    static let versions: ClosedRange<Int16> = 0...2

    let configs: ConfigManager

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async throws -> AlterConfigsResponse? {
        let results = await alterEach(request.resources, key: { "\($0.resourceType)/\($0.resourceName)" }) { resource throws(ConfigManager.Failure) in
            let missing = resource.configs.filter { $0.value == nil }.map(\.name)
            guard missing.isEmpty else {
                throw ConfigManager.Failure(code: .invalidRequest, message: "Null value not supported for : \(missing.joined(separator: ", "))")
            }
            try await self.configs.alter(
                type: resource.resourceType, name: resource.resourceName,
                operations: resource.configs.map { .set($0.name, $0.value!) }, incremental: false, validateOnly: request.validateOnly)
        }
        var response = AlterConfigsResponse()
        response.responses = zip(request.resources, results).map { resource, result in
            .init(errorCode: result.code.rawValue, errorMessage: result.message, resourceType: resource.resourceType, resourceName: resource.resourceName)
        }
        return response
    }
}

struct IncrementalAlterConfigsHandler: KafkaRequestHandler {
    typealias Request = IncrementalAlterConfigsRequest
    static let versions: ClosedRange<Int16> = 0...1

    let configs: ConfigManager

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async throws -> IncrementalAlterConfigsResponse? {
        let results = await alterEach(request.resources, key: { "\($0.resourceType)/\($0.resourceName)" }) { resource throws(ConfigManager.Failure) in
            var operations: [ConfigManager.Operation] = []
            var missing: [String] = []
            for config in resource.configs {
                switch (config.configOperation, config.value) {
                case (1, _): operations.append(.delete(config.name))
                case (0, let value?): operations.append(.set(config.name, value))
                case (2, let value?): operations.append(.append(config.name, value))
                case (3, let value?): operations.append(.subtract(config.name, value))
                case (0...3, nil): missing.append(config.name)
                default: throw ConfigManager.Failure(code: .invalidRequest, message: "Unknown config operation \(config.configOperation)")
                }
            }
            guard missing.isEmpty else {
                throw ConfigManager.Failure(code: .invalidRequest, message: "Null value not supported for : \(missing.joined(separator: ", "))")
            }
            try await self.configs.alter(
                type: resource.resourceType, name: resource.resourceName, operations: operations, incremental: true,
                validateOnly: request.validateOnly)
        }
        var response = IncrementalAlterConfigsResponse()
        response.responses = zip(request.resources, results).map { resource, result in
            .init(errorCode: result.code.rawValue, errorMessage: result.message, resourceType: resource.resourceType, resourceName: resource.resourceName)
        }
        return response
    }
}
