import HTTPTypes
import Inference
import NIOHPACK
import Runtime
import Testing

/// A gRPC call's HEADERS frame read in one pass: the call's fields as `HPACKHeaders.first(name:)`
/// reads them, and the trace headers exactly as the REST transport reads the same fields.
@Suite struct GRPCCallTests {
    @Test("one pass over the fields equals first(name:) for the call's fields and the REST reading for the trace")
    func onePassEqualsTheReferences() {
        let names = [
            ":path", ":method", "content-type", "grpc-encoding", "grpc-timeout", "traceparent", "tracestate",
            "x-cloud-trace-context", "user-agent",
        ]
        let values = [
            "/inference.GRPCInferenceService/ModelInfer", "POST", "GET", "application/grpc", "application/grpc+proto",
            "text/plain", "identity", "5S", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a=1", "x/1;o=1",
        ]
        var rng = SeededGenerator(seed: 22)
        var calls = 0
        for _ in 0..<3000 {
            var headers = HPACKHeaders()
            var fields = HTTPFields()
            // The three a call needs, usually, then anything, repeats included.
            if Int.random(in: 0..<4, using: &rng) > 0 {
                headers.add(name: ":path", value: values[0])
                headers.add(name: ":method", value: "POST")
                headers.add(name: "content-type", value: "application/grpc")
            }
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let (name, value) = (names.randomElement(using: &rng)!, values.randomElement(using: &rng)!)
                headers.add(name: name, value: value)
                if !name.hasPrefix(":") { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            }
            let path = headers.first(name: ":path")
            let isCall =
                path?.hasPrefix("/inference.GRPCInferenceService/") == true && headers.first(name: ":method") == "POST"
                && headers.first(name: "content-type")?.hasPrefix("application/grpc") == true
            guard let call = GRPCCall(headers) else {
                #expect(!isCall, "\(headers)")
                continue
            }
            calls += 1
            #expect(isCall)
            #expect(call.method == String(path!.dropFirst("/inference.GRPCInferenceService/".count)))
            #expect(call.encoding == headers.first(name: "grpc-encoding"))
            #expect(call.timeout == headers.first(name: "grpc-timeout"))
            let rest = RequestTracing.Headers(fields)
            #expect(call.trace.traceparent == rest.traceparent && call.trace.tracestate == rest.tracestate)
            #expect(call.trace.cloudTrace == rest.cloudTrace)
        }
        #expect(calls > 1000)
    }
}
