import FoundationEssentials
import Logging
import ObjectStore

/// Sends batches of spans to an OTLP/HTTP endpoint as `application/x-protobuf`
/// `ExportTraceServiceRequest`s, with the project's libcurl client (blocking: only the batch
/// processor's export thread calls it). A failed export is logged and the batch dropped, as the
/// OpenTelemetry exporters do; tracing never fails a request.
package struct OTLPExporter: Sendable {
    package let url: String
    let timeout: Duration
    let encoder: OTLPEncoder
    let client: HTTPClient
    let logger: Logger

    package init(configuration: TracingConfiguration, logger: Logger) {
        self.url = configuration.tracesURL
        self.timeout = configuration.exportTimeout
        self.encoder = OTLPEncoder(serviceName: configuration.serviceName, resource: configuration.resourceAttributes)
        self.client = HTTPClient(configuration: Self.transport(timeout: configuration.exportTimeout))
        self.logger = logger
    }

    /// Retries (429, 5xx, connection failures) within `timeout` in all.
    static func transport(timeout: Duration) -> TransportConfiguration {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        var t = TransportConfiguration()
        t.maxAttempts = 3
        t.deadline = max(seconds, 0.001)
        t.connectTimeout = min(t.connectTimeout, t.deadline)
        t.stallTimeout = min(t.stallTimeout, t.deadline)
        t.backoffCap = 1
        // Its answers are empty: libcurl's default 16 KiB, not the 256 KiB for model weights.
        t.receiveBufferBytes = 16 * 1024
        return t
    }

    /// Exports the `count` spans encoded in `spanFields` (`ScopeSpans.spans` fields), within
    /// `limit` when given (shutdown), else within the export timeout. The request is built in
    /// `body`, whose storage the caller keeps for the next export.
    func export(spanFields: [UInt8], count: Int, body: inout [UInt8], within limit: Duration? = nil) {
        encoder.encode(spanFields: spanFields, into: &body)
        let request = HTTPRequest(
            method: "POST", url: url, display: "OTLP endpoint \(url)",
            headers: [("Content-Type", "application/x-protobuf"), ("Expect", "")], body: body)
        do {
            let c =
                limit.map { $0 < timeout ? HTTPClient(configuration: Self.transport(timeout: $0)) : client } ?? client
            let response = try c.send(request)
            if !(200..<300).contains(response.status) {
                logger.warning(
                    "OTLP export refused: spans dropped (check OTEL_EXPORTER_OTLP_ENDPOINT)",
                    metadata: ["status": "\(response.status)", "url": "\(url)", "spans": "\(count)"])
            }
        } catch {
            logger.warning(
                "OTLP export failed: spans dropped (check OTEL_EXPORTER_OTLP_ENDPOINT)",
                metadata: ["error": "\(error)", "spans": "\(count)"])
        }
    }
}
