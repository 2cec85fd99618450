import Synchronization
import Testing
import Tracing

@testable import Functions
@testable import ObjectStore

/// A call's phases reach the request's ``FunctionCallTrace`` (the runtime's server span) as
/// values: `queue wait` then `inference`, with the function's attributes, the error of a failed
/// call, nothing for an unsampled request.
@Suite struct FunctionCallTraceTests {
    /// Keeps what the host records (the runtime's implementation, the OTLP server span, is
    /// tested in RuntimeTests' `FunctionCallPhaseTests` and end to end by test_tracing.py).
    final class Recorder: FunctionCallTrace {
        let isRecording: Bool
        let phases = Mutex<[FunctionCallPhase]>([])
        init(isRecording: Bool = true) { self.isRecording = isRecording }
        func record(_ phase: FunctionCallPhase) { phases.withLock { $0.append(phase) } }
        var recorded: [FunctionCallPhase] { phases.withLock { $0 } }
    }

    func call(
        _ host: CountingHost, in trace: Recorder, _ body: @escaping @Sendable () throws -> Void = {}
    ) async throws {
        var context = ServiceContext.topLevel
        context[FunctionCallTraceKey.self] = trace
        try await ServiceContext.withValue(context) {
            _ = try await host.call("f") { _, _ in try body() }
        }
    }

    @Test("a cold then a warm call record queue wait and inference, in order, with function, model, version and cold")
    func phases() async throws {
        let (_, repo) = try makeRepository(versions: [1, 2])
        let host = try makeHost(kind: CountingKind(), repository: repo)
        let trace = Recorder()
        try await call(host, in: trace)
        try await call(host, in: trace)
        let phases = trace.recorded
        #expect(phases.map(\.name) == ["queue wait", "inference", "queue wait", "inference"])
        #expect(phases.allSatisfy { $0.function == "f" && $0.model == "m" && $0.error == nil })
        #expect(phases.allSatisfy { $0.startNanoseconds > 0 && $0.startNanoseconds <= $0.endNanoseconds })
        #expect(phases[0].endNanoseconds <= phases[1].startNanoseconds, "queue wait ends before inference starts")
        #expect(phases[0].version == nil && phases[0].cold == nil, "not known while queued")
        #expect(phases[1].version == 2 && phases[1].cold == true)
        #expect(phases[3].version == 2 && phases[3].cold == false)
        await host.shutdown()
    }

    @Test("a call that fails records its inference phase with the error")
    func failedCall() async throws {
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: CountingKind(), repository: repo)
        let trace = Recorder()
        await #expect(throws: FunctionError.self) {
            try await call(host, in: trace) { throw FunctionError(.invalidInput, "refused by the test") }
        }
        let phases = trace.recorded
        #expect(phases.map(\.name) == ["queue wait", "inference"])
        #expect(phases[0].error == nil)
        #expect((phases[1].error as? FunctionError)?.message == "refused by the test")
        await host.shutdown()
    }

    @Test("an unsampled request's trace gets no phases")
    func unsampled() async throws {
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: CountingKind(), repository: repo)
        let trace = Recorder(isRecording: false)
        try await call(host, in: trace)
        #expect(trace.recorded.isEmpty)
        await host.shutdown()
    }
}
