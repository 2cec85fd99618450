import Functions
import Testing
import Tracing

@testable import Runtime

/// ``SpanFieldWriter``'s phase path against the general encoder: a function call's phase,
/// written straight from its value, has the bytes of the ``FinishedSpan`` it stands for
/// (``OTLPSpan/finished(_:number:)``) written by ``ProtobufWriter/span(_:)``, which
/// `OTLPEncoderTests` checks against swift-protobuf.
@Suite struct SpanFieldWriterTests {
    @Test("a phase written straight from its value has the bytes of its child span, for 3000 random phases")
    func phaseBytes() throws {
        var random = V2SplitMix(state: 20)
        let (_, processor) = testTracer(queue: 4)
        let texts = ["", "inference", "queue wait", "fünf-ü", String(repeating: "m", count: 130), "k=v,a=b"]
        for i in 0..<3000 {
            let context = OTLPSpanContext(
                traceIDHigh: random.next(), traceIDLow: random.next(), spanID: random.next() | 1,
                sampled: Bool.random(using: &random), traceState: [nil, "", "k=v", texts[4]][i % 4])
            let server = OTLPSpan(
                name: "s", parentContext: .topLevel, spanContext: context, kind: .server, parentSpanID: 0,
                startNanoseconds: 1, processor: processor)
            let start = [0, 1, random.next() >> 1][Int.random(in: 0..<3, using: &random)]
            let end = [0, start, start &+ 1_000, start / 2][Int.random(in: 0..<4, using: &random)]
            let phase = FunctionCallPhase(
                name: texts.randomElement(using: &random)!, startNanoseconds: start, endNanoseconds: end,
                function: texts.randomElement(using: &random)!, model: texts.randomElement(using: &random)!,
                version: [nil, 0, 3, -1, Int.max][Int.random(in: 0..<5, using: &random)],
                cold: [nil, true, false][Int.random(in: 0..<3, using: &random)])
            let number = UInt64(i % 5 + 1)
            var fast: [UInt8] = [7]  // appended after what the batch holds
            #expect(
                SpanFieldWriter.appendPhase(
                    phase, spanID: server.phaseSpanID(number), parent: server.spanContext, to: &fast))
            var slow = ProtobufWriter()
            slow.bytes = [7]
            slow.spanFieldSlow(server.finished(phase, number: number))
            #expect(fast == slow.bytes, "phase \(i): \(phase)")
            if fast != slow.bytes { return }
        }
    }

    @Test("a failed phase is left to the general encoder (its span has an error status and an exception event)")
    func failedPhase() {
        let (_, processor) = testTracer(queue: 4)
        let context = OTLPSpanContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3, sampled: true)
        let server = OTLPSpan(
            name: "s", parentContext: .topLevel, spanContext: context, kind: .server, parentSpanID: 0,
            startNanoseconds: 1, processor: processor)
        let phase = FunctionCallPhase(
            name: "inference", startNanoseconds: 1, endNanoseconds: 2, function: "f", model: "m",
            error: FunctionError(.invalidInput, "bad"))
        var bytes: [UInt8] = []
        #expect(!SpanFieldWriter.appendPhase(phase, spanID: 9, parent: context, to: &bytes))
        #expect(bytes.isEmpty)
        server.appendPhase(phase, number: 1, to: &bytes)
        var slow = ProtobufWriter()
        slow.spanFieldSlow(server.finished(phase, number: 1))
        #expect(bytes == slow.bytes)
    }
}
