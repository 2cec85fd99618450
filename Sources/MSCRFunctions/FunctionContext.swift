import Logging

/// What the runtime tells a function about the request it is answering.
public struct FunctionContext: Sendable {
    /// What a cold start cost the request that waited for it.
    public struct ColdStart: Sendable, Equatable {
        /// Milliseconds this request waited for the model to load.
        public var waitMs: Double
        /// The version that was loaded.
        public var version: Int
        /// Milliseconds spent waiting for bytes from the repository.
        public var fetchMs: Double
        /// Milliseconds spent parsing (overlaps the fetch when the model streams).
        public var parseMs: Double
        /// Milliseconds of the whole load.
        public var totalMs: Double
        /// Bytes read from the repository.
        public var bytes: Int

        /// A cold start report.
        public init(waitMs: Double, version: Int, fetchMs: Double, parseMs: Double, totalMs: Double, bytes: Int) {
            self.waitMs = waitMs
            self.version = version
            self.fetchMs = fetchMs
            self.parseMs = parseMs
            self.totalMs = totalMs
            self.bytes = bytes
        }
    }

    /// The request's logger, with its trace and the function's name as metadata.
    public var logger: Logger
    /// The function's name (from `function.json`).
    public var functionName: String
    /// The model's name in the repository.
    public var modelName: String
    /// The model version answering this request.
    public var modelVersion: Int
    /// When the request must be answered; past it the client has had a timeout.
    public var deadline: ContinuousClock.Instant
    /// The load this request waited for, or nil when the model was already loaded.
    public var coldStart: ColdStart?
    /// The request's trace id (W3C `traceparent` or Cloud Trace), if it had one.
    public var traceID: String?
    /// Where ``record(_:)`` sends forecasts (the runtime's retraining monitor), if anywhere.
    package var recorder: (@Sendable (ForecastRecord) -> Void)?

    /// A context (the runtime makes one per request; tests may make their own).
    public init(
        logger: Logger, functionName: String, modelName: String, modelVersion: Int,
        deadline: ContinuousClock.Instant, coldStart: ColdStart? = nil, traceID: String? = nil
    ) {
        self.logger = logger
        self.functionName = functionName
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.deadline = deadline
        self.coldStart = coldStart
        self.traceID = traceID
    }

    /// Time left before ``deadline`` (negative once it has passed).
    public var remainingTime: Duration { deadline - ContinuousClock.now }

    /// Tells the runtime about a forecast this request made, so that its live error can be
    /// measured: the runtime's retraining monitor (for `lstm-regressor` functions) settles it
    /// against the actual value when `POST /functions/<name>/feedback` brings it, and starts a
    /// retraining when the rolling error crosses `MSCR_RETRAIN_THRESHOLD`. Does nothing when the
    /// runtime does not watch this function (and in a context a test made).
    public func record(_ forecast: ForecastRecord) {
        recorder?(forecast)
    }
}

/// A forecast a function made, as ``FunctionContext/record(_:)`` reports it: which day it is for
/// and the value predicted. The runtime adds the model's name and version.
public struct ForecastRecord: Sendable, Equatable {
    /// The row index of the forecast day in the request's series (feedback names it as `day`).
    public var day: Int
    /// The date of the series' last row, when the input had dates (feedback naming a later date
    /// settles the latest forecast made after it).
    public var lastDate: String?
    /// The value predicted.
    public var predicted: Double

    /// A forecast of `predicted` for row `day`, made from a series ending on `lastDate`.
    public init(day: Int, lastDate: String? = nil, predicted: Double) {
        self.day = day
        self.lastDate = lastDate
        self.predicted = predicted
    }
}
