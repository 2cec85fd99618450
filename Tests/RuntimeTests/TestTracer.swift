import Logging
import Runtime

/// A tracer whose batch processor exports nowhere (port 9): tests take its queued requests
/// themselves (`takeQueuedRequests`).
func testTracer(
    _ sampler: TracingConfiguration.Sampler = .alwaysOn, queue: Int = 16, batch: Int? = nil
) -> (OTLPTracer, OTLPBatchProcessor) {
    var c = TracingConfiguration()
    c.enabled = true
    c.endpoint = "http://127.0.0.1:9"
    c.batchMaxQueueSize = queue
    c.batchMaxExportSize = batch ?? queue
    let logger = Logger(label: "test")
    let processor = OTLPBatchProcessor(
        configuration: c, exporter: OTLPExporter(configuration: c, logger: logger), logger: logger)
    return (OTLPTracer(sampler: TraceSampler(sampler), processor: processor), processor)
}
