import Functions
import Prometheus

/// The Prometheus metrics of one server (its own registry, so tests can run several servers
/// in one process).
package final class RuntimeMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()

    static let latencyBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]
    static let loadBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    package init() {
        // Declare the families up front so /metrics lists them before the first request.
        _ = registry.makeGauge(name: "mscr_inflight_requests", help: "Function requests running now.")
        _ = registry.makeGauge(name: "mscr_queued_requests", help: "Function requests waiting for a slot.")
    }

    /// One function request done.
    package func recordRequest(function: String, status: Int, seconds: Double, cold: Bool) {
        registry.makeCounter(
            name: "mscr_requests_total", labels: [("function", function), ("status", String(status))],
            help: "Function requests by function and HTTP status."
        ).increment()
        registry.makeValueHistogram(
            name: "mscr_request_duration_seconds", labels: [("function", function)],
            buckets: Self.latencyBuckets, help: "Function request latency, queueing and cold start included."
        ).record(seconds)
        if cold {
            registry.makeCounter(
                name: "mscr_cold_requests_total", labels: [("function", function)],
                help: "Requests that waited for a model load."
            ).increment()
        }
    }

    /// One model load attempt.
    package func recordLoad(function: String, result: Result<LoadReport, FunctionError>) {
        switch result {
        case .success(let report):
            registry.makeValueHistogram(
                name: "mscr_model_load_seconds", labels: [("function", function)], buckets: Self.loadBuckets,
                help: "Cold start (model load: fetch + parse) duration."
            ).record(report.totalMs / 1000)
            registry.makeCounter(
                name: "mscr_model_bytes_fetched_total", labels: [("function", function)],
                help: "Bytes fetched from the model repository."
            ).increment(by: Int64(report.bytes))
            registry.makeGauge(
                name: "mscr_model_version", labels: [("function", function)],
                help: "The model version serving now."
            ).set(Double(report.version))
            registry.makeCounter(
                name: "mscr_model_loads_total", labels: [("function", function), ("result", "ok")],
                help: "Model load attempts by result."
            ).increment()
        case .failure:
            registry.makeCounter(
                name: "mscr_model_loads_total", labels: [("function", function), ("result", "error")],
                help: "Model load attempts by result."
            ).increment()
        }
    }

    /// An idle function sent back to cold by the memory budget.
    package func recordEviction(function: String) {
        registry.makeCounter(
            name: "mscr_function_evictions_total", labels: [("function", function)],
            help: "Loaded functions evicted (back to cold) to make room in the memory budget."
        ).increment()
    }

    /// Non-function requests (health, metrics, page), by route.
    package func recordOther(route: String, status: Int) {
        registry.makeCounter(
            name: "mscr_http_requests_total", labels: [("route", route), ("status", String(status))],
            help: "Other HTTP requests by route and status."
        ).increment()
    }

    /// Sets a named gauge with labels (observer error and the like).
    package func setGauge(_ name: String, labels: [(String, String)], value: Double, help: String) {
        registry.makeGauge(name: name, labels: labels, help: help).set(value)
    }

    /// The text exposition, with the live in-flight and queue gauges refreshed.
    package func render(host: RuntimeHost) -> [UInt8] {
        let load = host.load
        registry.makeGauge(name: "mscr_inflight_requests", help: "Function requests running now.").set(
            Double(load.active))
        registry.makeGauge(name: "mscr_queued_requests", help: "Function requests waiting for a slot.").set(
            Double(load.queued))
        if let limit = host.budget.limit {
            registry.makeGauge(
                name: "mscr_memory_budget_bytes", help: "Bytes the loaded models may use (MSCR_MEMORY_LIMIT)."
            )
            .set(Double(limit))
        }
        registry.makeGauge(
            name: "mscr_memory_charged_bytes", help: "Bytes charged to the memory budget by loaded models."
        )
        .set(Double(host.budget.charges.values.reduce(0, +)))
        return registry.emitToBuffer()
    }
}
