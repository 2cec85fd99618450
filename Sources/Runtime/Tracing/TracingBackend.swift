import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The OpenTelemetry tracer and its exporter (swift-otel: a batch span processor feeding an
/// OTLP/HTTP exporter), built from a ``TracingConfiguration``.
///
/// The only file that knows swift-otel: every other layer speaks the swift-distributed-tracing
/// API (`withSpan`, `InstrumentationSystem`).
package enum TracingBackend {
    /// The tracer to bootstrap and the service that batches and exports its spans (it runs in
    /// the server's service group, listed before the application so it stops after the
    /// application has drained: the spans of the last requests are flushed on SIGTERM).
    /// Returns nil when tracing is off.
    package static func make(_ tracing: TracingConfiguration, logger: Logger) throws -> (
        tracer: any Tracer, service: any Service
    )? {
        guard tracing.enabled else { return nil }
        var config = OTel.Configuration.default
        config.serviceName = tracing.serviceName
        config.resourceAttributes = tracing.resourceAttributes
        config.diagnosticLogger = .custom(logger)
        config.diagnosticLogLevel = .warning
        config.propagators = [.traceContext]
        config.metrics.enabled = false
        config.logs.enabled = false
        config.traces.enabled = true
        switch tracing.exporter {
        case .otlp: config.traces.exporter = .otlp
        case .none: return nil
        }
        config.traces.otlpExporter.endpoint = tracing.tracesURL
        config.traces.otlpExporter.`protocol` = tracing.otlpProtocol == .httpJSON ? .httpJSON : .httpProtobuf
        config.traces.otlpExporter.timeout = tracing.exportTimeout
        config.traces.sampler = samplerConfiguration(tracing.sampler)
        config.traces.batchSpanProcessor.scheduleDelay = tracing.batchScheduleDelay
        config.traces.batchSpanProcessor.exportTimeout = tracing.batchExportTimeout
        config.traces.batchSpanProcessor.maxQueueSize = tracing.batchMaxQueueSize
        config.traces.batchSpanProcessor.maxExportBatchSize = tracing.batchMaxExportSize
        let backend = try OTel.makeTracingBackend(configuration: config)
        return (backend.factory, backend.service)
    }

    static func samplerConfiguration(_ sampler: TracingConfiguration.Sampler)
        -> OTel.Configuration.TracesConfiguration.SamplerConfiguration
    {
        switch sampler {
        case .alwaysOn: return .alwaysOn
        case .alwaysOff: return .alwaysOff
        case .parentBasedAlwaysOn: return .parentBasedAlwaysOn
        case .parentBasedAlwaysOff: return .parentBasedAlwaysOff
        case .traceIDRatio(let r): return .traceIDRatio(ratio: r) ?? .alwaysOn
        case .parentBasedTraceIDRatio(let r): return .parentBasedTraceIDRatio(ratio: r) ?? .parentBasedAlwaysOn
        }
    }
}
