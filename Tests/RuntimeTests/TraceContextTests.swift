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
    /// The `traceparent` reading as it was written first, on `split`: the reference for the
    /// byte-wise one. Two rules are new: the version must be hex too (it took any two
    /// characters; W3C Trace Context has two hex digits), and the header is split on its bytes,
    /// not its `Character`s (a dash followed by a combining mark was no separator).
    static func referenceParts(_ header: String) -> (trace: String, span: String)? {
        func isHex(_ s: Substring.UTF8View.SubSequence) -> Bool {
            s.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
        }
        let parts = header.utf8[...].split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, isHex(parts[0]), parts[1].count == 32, isHex(parts[1]),
            parts[2].count == 16, isHex(parts[2]), parts[3].count == 2, isHex(parts[3])
        else { return nil }
        let trace = String(decoding: parts[1], as: UTF8.self).lowercased()
        let span = String(decoding: parts[2], as: UTF8.self).lowercased()
        guard trace != String(repeating: "0", count: 32), span != String(repeating: "0", count: 16) else { return nil }
        return (trace, span)
    }

    /// The tracer's parse as it was written first, on an array of the bytes.
    static func referenceSpanContext(_ traceparent: String) -> OTLPSpanContext? {
        let utf8 = Array(traceparent.utf8)
        func hex(_ digits: ArraySlice<UInt8>) -> UInt64? {
            var value: UInt64 = 0
            for c in digits {
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                default: return nil
                }
                value = value << 4 | UInt64(d)
            }
            return value
        }
        guard utf8.count >= 55, utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"),
            utf8[52] == UInt8(ascii: "-"), utf8.count == 55 || utf8[55] == UInt8(ascii: "-")
        else { return nil }
        guard let version = hex(utf8[0..<2]), version != 0xff, version == 0 ? utf8.count == 55 : true,
            let high = hex(utf8[3..<19]), let low = hex(utf8[19..<35]), let span = hex(utf8[36..<52]),
            let flags = hex(utf8[53..<55]), high | low != 0, span != 0
        else { return nil }
        return OTLPSpanContext(
            traceIDHigh: high, traceIDLow: low, spanID: span, sampled: flags & 1 == 1, traceState: nil, isRemote: true)
    }

    @Test("traceparent read on its bytes equals the split-based and array-based readings, for 40000 mutated headers")
    func traceparentBytes() {
        var random = V2SplitMix(state: 3)
        let hex = Array("0123456789abcdefABCDEF")
        let noise: [String] = ["0", "a", "F", "-", "z", "é", "\r", "\n", "g", " ", "\r\n", "\u{301}"]
        func ids(_ n: Int) -> String {
            String(
                (0..<n).map { _ in Int.random(in: 0..<8, using: &random) == 0 ? "0" : hex.randomElement(using: &random)!
                })
        }
        var valid = 0
        for i in 0..<40_000 {
            let version = ["00", "01", "ff", "0F", "é", "\r\n", "0-"][
                i % 7 == 0 ? Int.random(in: 0..<7, using: &random) : 0]
            let trace = i % 50 == 0 ? String(repeating: "0", count: 32) : ids(32)
            let span = i % 51 == 0 ? String(repeating: "0", count: 16) : ids(16)
            var header = Array("\(version)-\(trace)-\(span)-\(["01", "00", "0A"][i % 3])\(i % 5 == 0 ? "-extra" : "")")
            for _ in 0..<Int.random(in: 0..<3, using: &random) where !header.isEmpty {
                let at = Int.random(in: 0..<header.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: header[at] = Character(noise.randomElement(using: &random)!)
                case 1: header.insert(Character(noise.randomElement(using: &random)!), at: at)
                default: header.remove(at: at)
                }
            }
            let text = String(header)
            let expected = Self.referenceParts(text)
            let parsed = TraceContext.parse(cloudTrace: nil, traceparent: text)
            #expect(parsed?.traceID == expected?.trace && parsed?.spanID == expected?.span, "\(text)")
            let effective = RequestTracing.Headers(traceparent: text).effectiveTraceparent
            #expect(effective == (expected == nil ? nil : text), "\(text)")
            #expect(OTLPSpanContext(traceparent: text, traceState: nil) == Self.referenceSpanContext(text), "\(text)")
            if expected != nil { valid += 1 }
        }
        #expect(valid > 10_000, "\(valid) valid headers among the mutations")
    }
}
