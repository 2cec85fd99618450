import HTTPTypes
import Inference
import Runtime
import Testing

@Suite struct TraceContextTests {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    @Test("traceparent wins over X-Cloud-Trace-Context; the Cloud header is used when it is absent or malformed")
    func precedence() {
        let other = "0af7651916cd43dd8448eb211c80319c"
        let both = TraceContext.parse(cloudTrace: "\(other)/1;o=1", traceparent: "00-\(trace)-00f067aa0ba902b7-01")
        #expect(both == TraceContext(traceID: trace, spanID: "00f067aa0ba902b7"))
        #expect(
            TraceContext.parse(cloudTrace: "\(other)/1;o=1", traceparent: nil)
                == TraceContext(traceID: other, spanID: "1"))
        #expect(TraceContext.parse(cloudTrace: "\(other)/1", traceparent: "00-xyz-1-01")?.traceID == other)
        #expect(
            TraceContext.parse(
                cloudTrace: nil, traceparent: "00-\(String(repeating: "0", count: 32))-00f067aa0ba902b7-01") == nil)
    }

    @Test("X-Cloud-Trace-Context becomes a W3C traceparent: the decimal span id in hex, o=1 as sampled")
    func cloudToTraceparent() {
        #expect(TraceContext.traceparent(fromCloudTrace: "\(trace)/12345;o=1") == "00-\(trace)-0000000000003039-01")
        #expect(
            TraceContext.traceparent(fromCloudTrace: "\(trace.uppercased())/18446744073709551615;o=0")
                == "00-\(trace)-ffffffffffffffff-00")
        #expect(TraceContext.traceparent(fromCloudTrace: "\(trace)/1") == "00-\(trace)-0000000000000001-00")
        // No span id, a zero span id, a span id past 64 bits or a short trace id: nothing to continue.
        #expect(TraceContext.traceparent(fromCloudTrace: trace) == nil)
        #expect(TraceContext.traceparent(fromCloudTrace: "\(trace)/0;o=1") == nil)
        #expect(TraceContext.traceparent(fromCloudTrace: "\(trace)/18446744073709551616;o=1") == nil)
        #expect(TraceContext.traceparent(fromCloudTrace: "abc/1;o=1") == nil)
    }

    @Test("the span continues traceparent, else the Cloud Trace header")
    func effectiveTraceparent() {
        let w3c = "00-\(trace)-00f067aa0ba902b7-01"
        #expect(RequestTracing.Headers(traceparent: w3c, cloudTrace: "\(trace)/5;o=1").effectiveTraceparent == w3c)
        #expect(
            RequestTracing.Headers(traceparent: nil, cloudTrace: "\(trace)/5;o=1").effectiveTraceparent
                == "00-\(trace)-0000000000000005-01")
        #expect(
            RequestTracing.Headers(traceparent: "garbage", cloudTrace: "\(trace)/5;o=1").effectiveTraceparent
                == "00-\(trace)-0000000000000005-01")
        #expect(RequestTracing.Headers(traceparent: nil, cloudTrace: nil).effectiveTraceparent == nil)
    }

    @Test("the server span names the function of /functions and /v2/models paths")
    func functionName() {
        #expect(RequestTracing.functionName(path: "/functions/stock") == "stock")
        #expect(RequestTracing.functionName(path: "/v2/models/detect/versions/2/infer") == "detect")
        #expect(RequestTracing.functionName(path: "/v2/models") == nil)
        #expect(RequestTracing.functionName(path: "/healthz") == nil)
        #expect(RequestTracing.functionName(path: "/functions//stock/x") == "stock")
        #expect(RequestTracing.functionName(path: "/functions/") == nil)
        #expect(RequestTracing.functionName(path: "/functionsx/stock") == nil)
    }

    @Test("the function name read on the bytes equals a Character-wise reading of the path")
    func functionNameReference() {
        func reference(_ path: String) -> String? {
            for prefix in ["/functions/", "/v2/models/"] where path.hasPrefix(prefix) {
                let name = path.dropFirst(prefix.count).drop { $0 == "/" }.prefix { $0 != "/" }
                if !name.isEmpty { return String(name) }
            }
            return nil
        }
        var rng = SeededGenerator(seed: 20)
        let pieces = ["/functions/", "/v2/models/", "/", "stock", "détect", "x", "/infer", "functions", "v2"]
        for _ in 0..<3000 {
            let path = (0..<Int.random(in: 0...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }
                .joined()
            #expect(RequestTracing.functionName(path: path) == reference(path), "\(path)")
        }
    }

    @Test("the trace headers read in one pass equal the fields' subscripts, repeated fields joined")
    func traceHeadersReference() {
        let names = ["traceparent", "tracestate", "X-Cloud-Trace-Context", "content-type", "TraceParent"]
        let values = ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a=1", "b=2", "x/1;o=1", ""]
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<2000 {
            var fields = HTTPFields()
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                fields.append(
                    HTTPField(
                        name: HTTPField.Name(names.randomElement(using: &rng)!)!,
                        value: values.randomElement(using: &rng)!))
            }
            let headers = RequestTracing.Headers(fields)
            #expect(headers.traceparent == fields[HTTPField.Name("traceparent")!])
            #expect(headers.tracestate == fields[HTTPField.Name("tracestate")!])
            #expect(headers.cloudTrace == fields[HTTPField.Name("x-cloud-trace-context")!])
        }
    }
}
