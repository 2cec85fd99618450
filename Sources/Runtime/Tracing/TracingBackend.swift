import Logging
import ServiceLifecycle
import Tracing

/// The OpenTelemetry tracer and its exporter, built from a ``TracingConfiguration``: the
/// project's own ``OTLPTracer`` (W3C propagation, samplers), ``OTLPBatchProcessor`` and
/// ``OTLPExporter`` (OTLP/HTTP with protobuf bodies over libcurl; no Foundation, no SDK).
///
/// Every other layer speaks only the swift-distributed-tracing API (`withSpan`,
/// `InstrumentationSystem`).
package enum TracingBackend {
    /// The tracer to bootstrap and the service that batches and exports its spans (it runs in
    /// the server's service group, listed before the application so it stops after the
    /// application has drained: the spans of the last requests are flushed on SIGTERM).
    /// Returns nil when tracing is off.
    package static func make(_ tracing: TracingConfiguration, logger: Logger) throws -> (
        tracer: any Tracer, service: any Service
    )? {
        guard tracing.enabled, tracing.exporter == .otlp else { return nil }
        let processor = OTLPBatchProcessor(
            configuration: tracing, exporter: OTLPExporter(configuration: tracing, logger: logger), logger: logger)
        return (OTLPTracer(sampler: TraceSampler(tracing.sampler), processor: processor), processor)
    }
}
