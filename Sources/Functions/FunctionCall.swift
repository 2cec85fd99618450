/// What a call knows before its function runs: the timing so far (queue, the cold load it
/// waited for), its deadline and the model version answering.
package struct FunctionCall: Sendable {
    package var timing: CallTiming
    package var deadline: ContinuousClock.Instant
    package var version: Int

    package init(timing: CallTiming, deadline: ContinuousClock.Instant, version: Int) {
        self.timing = timing
        self.deadline = deadline
        self.version = version
    }
}
