import Common
import FoundationEssentials
import Functions
import Logging
import ObjectStore
import Retraining
import ServiceLifecycle

/// The SR connector in the server: one prediction observer per `lstm-regressor` function,
/// the dispatcher that runs the trigger off the request path, and what they report.
package final class RetrainingMonitor: Sendable {
    /// Observers by model name (forecast events name their model).
    let observers: [String: PredictionObserver]
    /// Observers by function name (feedback arrives per function).
    let byFunction: [String: PredictionObserver]
    let dispatcher: RetrainDispatcher?

    init(configs: [FunctionConfig], configuration: RuntimeConfiguration, repository: ModelRepository, logger: Logger) {
        var trigger: (any RetrainTrigger)?
        if let url = configuration.retrainURL {
            trigger = HTTPRetrainTrigger(url: url)
        } else if let data = configuration.retrainData {
            // Headerless data needs its row order said (goog-daily.csv is newest first).
            let order = configuration.retrainOrder
            trigger = InProcessRetrainTrigger(
                data: data, order: order, repository: repository, options: RetrainJob.Options())
        }
        let dispatcher = trigger.map { RetrainDispatcher(trigger: $0, logger: logger) }
        self.dispatcher = dispatcher
        var observers: [String: PredictionObserver] = [:]
        var byFunction: [String: PredictionObserver] = [:]
        let policy = PredictionObserver.Policy(
            threshold: configuration.retrainThreshold, cooldown: configuration.retrainCooldown.seconds)
        for config in configs where config.kind == "lstm-regressor" {
            let observer =
                observers[config.model]
                ?? PredictionObserver(
                    function: config.name, model: config.model, policy: policy,
                    onFire: { event in
                        logger.notice(
                            "live error crossed the retrain threshold",
                            metadata: [
                                "function": "\(event.function)", "version": "\(event.version)",
                                "rolling_rmse": "\(event.rollingRMSE)", "threshold": "\(event.threshold)",
                            ])
                        dispatcher?.submit(event)
                    })
            observers[config.model] = observer
            byFunction[config.name] = observer
        }
        self.observers = observers
        self.byFunction = byFunction
    }

    /// Where what functions record goes (`HostedKind.observed(by:)`; the stock function records
    /// every forecast it makes): to the observer of the model that made it.
    var onForecast: @Sendable (FunctionObservation) -> Void {
        let observers = self.observers
        return { observation in
            let record = observation.record
            observers[observation.model]?.recordPrediction(
                StockForecastEvent(
                    model: observation.model, version: observation.version, day: record.day,
                    lastDate: record.lastDate, predicted: record.predicted))
        }
    }

    /// `GET /functions` fields of one function: the serving version's live error.
    func status(function: String) -> (String, JSONValue)? {
        guard let observer = byFunction[function] else { return nil }
        let snap = observer.snapshot()
        var monitor: [(String, JSONValue)] = [
            ("fired", snap.fired.json), ("unmatched_feedback", snap.unmatched.json),
            ("threshold", observer.policy.threshold.json),
        ]
        let versions: [JSONValue] = snap.versions.map { v in
            [
                "version": v.version.json, "predictions": v.predictions.json, "feedback": v.feedback.json,
                "rolling_rmse": v.rollingRMSE.json,
            ]
        }
        monitor.append(("versions", .array(versions)))
        monitor.append(("rolling_rmse", snap.serving?.rollingRMSE.json ?? .null))
        if let d = dispatcher?.status {
            let trigger: JSONValue = [
                "submitted": d.submitted.json, "completed": d.completed.json, "failed": d.failed.json,
                "running": d.running.json, "last_outcome": d.lastOutcome.json,
            ]
            monitor.append(("trigger", trigger))
        }
        return ("monitor", .object(monitor))
    }

    /// Refreshes the live-error gauges before `/metrics` renders.
    func updateMetrics(_ metrics: RuntimeMetrics) {
        for (name, observer) in byFunction {
            let snap = observer.snapshot()
            for v in snap.versions {
                if let rmse = v.rollingRMSE {
                    metrics.setGauge(
                        "mscr_model_live_rmse", labels: [("function", name), ("version", String(v.version))],
                        value: rmse, help: "Rolling RMSE of settled forecasts, per model version.")
                }
            }
            metrics.setGauge(
                "mscr_retrain_triggers_fired", labels: [("function", name)], value: Double(snap.fired),
                help: "Times the live error crossed MSCR_RETRAIN_THRESHOLD.")
        }
    }

    /// The dispatcher as a service of the server's group (stops on graceful shutdown).
    var services: [any Service] {
        guard let dispatcher else { return [] }
        return [DispatcherService(dispatcher: dispatcher)]
    }
}

struct DispatcherService: Service {
    let dispatcher: RetrainDispatcher

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await dispatcher.run() }
        dispatcher.finish()
    }
}
