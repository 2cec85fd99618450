import FoundationEssentials
import Functions
import Synchronization

/// Why the observer fired: the serving version's rolling error crossed the threshold.
package struct RetrainEvent: Codable, Sendable, Equatable {
    package var function: String
    package var model: String
    package var version: Int
    /// RMSE (dollars) over the last `points` feedback points of `version`.
    package var rollingRMSE: Double
    package var points: Int
    package var threshold: Double
    /// Seconds since 1970 (the observer's clock).
    package var at: Double

    enum CodingKeys: String, CodingKey {
        case function, model, version, points, threshold, at
        case rollingRMSE = "rolling_rmse"
    }
}

/// The SR connector's monitor: records each forecast the stock function makes and the actual
/// closes that come back as feedback, per model version; keeps the RMSE of the last `window`
/// settled forecasts per version; and when the serving version's rolling RMSE crosses
/// `threshold` (with at least `minPoints` points) calls `onFire`, at most once per `cooldown`.
/// Thread-safe; the clock is injectable for tests.
package final class PredictionObserver: Sendable {
    package struct Policy: Sendable, Equatable {
        /// Rolling RMSE (dollars) above which to fire (`MSCR_RETRAIN_THRESHOLD`); nil never fires.
        package var threshold: Double?
        /// Seconds between two firings (`MSCR_RETRAIN_COOLDOWN`).
        package var cooldown: Double
        /// Feedback points in the rolling error.
        package var window: Int
        /// Points needed before the error can fire.
        package var minPoints: Int

        package init(threshold: Double?, cooldown: Double = 3600, window: Int = 20, minPoints: Int = 5) {
            self.threshold = threshold
            self.cooldown = cooldown
            self.window = max(1, window)
            self.minPoints = max(1, min(minPoints, max(1, window)))
        }
    }

    /// One version's numbers.
    package struct VersionStats: Sendable, Equatable {
        package var version: Int
        package var predictions: Int
        package var feedback: Int
        /// RMSE over the last `points` settled forecasts (nil before any).
        package var rollingRMSE: Double?
        package var points: Int
    }

    package struct Snapshot: Sendable, Equatable {
        package var function: String
        package var model: String
        /// The version that made the latest forecast.
        package var servingVersion: Int?
        package var versions: [VersionStats]
        package var fired: Int
        package var lastFired: Double?
        /// Feedback points that matched no forecast.
        package var unmatched: Int

        /// The serving version's stats.
        package var serving: VersionStats? { versions.first { $0.version == servingVersion } }
    }

    /// What one feedback call did.
    package struct FeedbackResult: Sendable, Equatable {
        package var matched: Int
        package var unmatched: Int
        /// Set when this call fired the trigger.
        package var fired: RetrainEvent?
    }

    private struct Forecast {
        var day: Int
        var lastDate: String?
        var predicted: Double
    }

    private struct VersionState {
        var forecasts: [Forecast] = []
        var errors: [Double] = []  // squared errors, the last `window`
        var predictions = 0
        var feedback = 0
    }

    private struct State {
        var versions: [Int: VersionState] = [:]
        var serving: Int?
        var fired = 0
        var lastFired: Double?
        var unmatched = 0
    }

    package let function: String
    package let model: String
    package let policy: Policy
    private let clock: @Sendable () -> Double
    private let onFire: (@Sendable (RetrainEvent) -> Void)?
    private let state = Mutex(State())
    /// Forecasts kept per version (oldest dropped), and versions kept.
    private let maxForecasts = 2000
    private let maxVersions = 8

    package init(
        function: String, model: String, policy: Policy,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        onFire: (@Sendable (RetrainEvent) -> Void)? = nil
    ) {
        self.function = function
        self.model = model
        self.policy = policy
        self.clock = clock
        self.onFire = onFire
    }

    /// Records a forecast (the runtime wires it to what functions record: `RetrainingMonitor`).
    package func recordPrediction(_ event: StockForecastEvent) {
        recordPrediction(version: event.version, day: event.day, lastDate: event.lastDate, predicted: event.predicted)
    }

    /// Records the forecast `predicted` for row `day` of a series whose last row is dated `lastDate`.
    package func recordPrediction(version: Int, day: Int, lastDate: String?, predicted: Double) {
        guard predicted.isFinite else { return }
        state.withLock { s in
            var v = s.versions[version] ?? VersionState()
            // A newer forecast for the same target replaces the older one.
            v.forecasts.removeAll { $0.day == day && $0.lastDate == lastDate }
            v.forecasts.append(Forecast(day: day, lastDate: lastDate, predicted: predicted))
            if v.forecasts.count > maxForecasts { v.forecasts.removeFirst(v.forecasts.count - maxForecasts) }
            v.predictions += 1
            s.versions[version] = v
            if s.serving.map({ version >= $0 }) ?? true { s.serving = version }
            if s.versions.count > maxVersions, let oldest = s.versions.keys.min() { s.versions[oldest] = nil }
        }
    }

    /// Settles forecasts with actual closes: a `day` point settles the forecast for that row
    /// index; a `date` point settles the forecast made from the latest series that ended
    /// before that date. Each version's matching forecast is scored (so an old and a new
    /// version can be compared on the same days). May fire; returns what it did.
    @discardableResult
    package func recordFeedback(_ points: [StockFeedback.Point]) -> FeedbackResult {
        let now = clock()
        let result = state.withLock { s -> FeedbackResult in
            var result = FeedbackResult(matched: 0, unmatched: 0, fired: nil)
            for point in points {
                var matched = false
                for version in s.versions.keys.sorted() {
                    guard var v = s.versions[version] else { continue }
                    let index: Int?
                    switch point.target {
                    case .day(let day):
                        index =
                            v.forecasts.lastIndex { $0.day == day && $0.lastDate == nil }
                            ?? v.forecasts.lastIndex { $0.day == day }
                    case .date(let date):
                        index = v.forecasts.indices.filter { v.forecasts[$0].lastDate.map { $0 < date } ?? false }
                            .max { v.forecasts[$0].lastDate! < v.forecasts[$1].lastDate! }
                    }
                    guard let index else { continue }
                    let e = v.forecasts[index].predicted - point.actual
                    v.forecasts.remove(at: index)
                    v.errors.append(e * e)
                    if v.errors.count > policy.window { v.errors.removeFirst(v.errors.count - policy.window) }
                    v.feedback += 1
                    s.versions[version] = v
                    matched = true
                }
                if matched { result.matched += 1 } else { result.unmatched += 1 }
            }
            s.unmatched += result.unmatched
            guard let threshold = policy.threshold, let serving = s.serving, let v = s.versions[serving],
                v.errors.count >= policy.minPoints
            else { return result }
            let rmse = (v.errors.reduce(0, +) / Double(v.errors.count)).squareRoot()
            guard rmse > threshold, s.lastFired.map({ now - $0 >= policy.cooldown }) ?? true else { return result }
            s.fired += 1
            s.lastFired = now
            result.fired = RetrainEvent(
                function: function, model: model, version: serving, rollingRMSE: rmse, points: v.errors.count,
                threshold: threshold, at: now)
            return result
        }
        if let event = result.fired { onFire?(event) }
        return result
    }

    /// The numbers for `/metrics` and `GET /functions`.
    package func snapshot() -> Snapshot {
        state.withLock { s in
            let versions = s.versions.keys.sorted().compactMap { version -> VersionStats? in
                guard let v = s.versions[version] else { return nil }
                let rmse = v.errors.isEmpty ? nil : (v.errors.reduce(0, +) / Double(v.errors.count)).squareRoot()
                return VersionStats(
                    version: version, predictions: v.predictions, feedback: v.feedback, rollingRMSE: rmse,
                    points: v.errors.count)
            }
            return Snapshot(
                function: function, model: model, servingVersion: s.serving, versions: versions, fired: s.fired,
                lastFired: s.lastFired, unmatched: s.unmatched)
        }
    }
}
