/// What a call knows before its function runs: the timing so far (queue, the cold load it
/// waited for), its deadline, the model version answering and the request's trace.
package struct FunctionCall: Sendable {
    package var timing: CallTiming
    package var deadline: ContinuousClock.Instant
    package var version: Int
    /// The request's ``FunctionCallTrace`` (its server span), when it is traced: the function
    /// runs on a pool thread, outside the request's `ServiceContext`, and its log lines name
    /// the span through this.
    package var trace: (any FunctionCallTrace)?

    package init(
        timing: CallTiming, deadline: ContinuousClock.Instant, version: Int, trace: (any FunctionCallTrace)? = nil
    ) {
        self.timing = timing
        self.deadline = deadline
        self.version = version
        self.trace = trace
    }
}
