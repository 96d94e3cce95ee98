import KafkaModel
import KafkaProtocol

// ApiVersions (API key 18). Supported: v0...v3.
// Behaviour: lists exactly the APIs and versions this broker's handlers serve. A request for a newer version
// gets Kafka's KIP-511 answer: UNSUPPORTED_VERSION with the list, encoded as v0, so any client can read it and
// retry at a version it sees advertised for ApiVersions. No client software name validation (Kafka answers
// INVALID_REQUEST for odd characters).
struct ApiVersionsHandler: KafkaRequestHandler {
    typealias Request = ApiVersionsRequest
    static let versions: ClosedRange<Int16> = 0...3

    /// Filled in once every handler is registered.
    var supported: [(key: ApiKey, versions: ClosedRange<Int16>)]

    func handle(_ request: ApiVersionsRequest, context: RequestContext) async throws -> ApiVersionsResponse? {
        self.response(errorCode: .none)
    }

    func response(errorCode: ErrorCode) -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: errorCode.rawValue,
            apiKeys: self.supported.map { .init(apiKey: $0.key.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound) })
    }
}
