import Functions
import Logging
import Runtime
import SwiftProtobuf
import Testing
import Tracing

/// The spans of ``OTLPTracer`` as the exporter sends them: encoded into their batch when they
/// end, with the request attributes as fields, decoded back by swift-protobuf (the
/// independent implementation).
@Suite struct OTLPBatchTests {
    typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    typealias ProtoSpan = Opentelemetry_Proto_Trace_V1_Span

    func tracer(queue: Int, batch: Int) -> (OTLPTracer, OTLPBatchProcessor) {
        testTracer(queue: queue, batch: batch)
    }

    func spans(_ requests: [[UInt8]]) throws -> [[ProtoSpan]] {
        try requests.map { bytes in
            let request = try Request(serializedBytes: bytes)
            #expect(request.resourceSpans.count == 1)
            return request.resourceSpans.first?.scopeSpans.first?.spans ?? []
        }
    }

    static func attributes(_ span: ProtoSpan) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: span.attributes.map { kv in
                let v = kv.value
                let text: String =
                    switch v.value {
                    case .stringValue(let s): "s:" + s
                    case .intValue(let i): "i:\(i)"
                    case .boolValue(let b): "b:\(b)"
                    case .doubleValue(let d): "d:\(d)"
                    default: "?"
                    }
                return (kv.key, text)
            })
    }

    @Test("ended spans go out in batches of at most OTEL_BSP_MAX_EXPORT_BATCH_SIZE, in the order they ended")
    func batches() throws {
        let (tracer, processor) = tracer(queue: 10, batch: 3)
        var ids: [UInt64] = []
        for i in 0..<7 {
            let span = tracer.startSpan("s\(i)", context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now)
            ids.append(span.spanContext.spanID)
            span.end()
        }
        #expect(processor.queuedCount == 7)
        let batches = try spans(processor.takeQueuedRequests())
        #expect(batches.map(\.count) == [3, 3, 1])
        #expect(processor.queuedCount == 0)
        let exported = batches.joined().map { $0.spanID.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        #expect(exported == ids)
        #expect(batches.joined().map(\.name) == (0..<7).map { "s\($0)" })
        // Emptied and refilled: the next spans start a new batch.
        tracer.startSpan("again", context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now).end()
        #expect(try spans(processor.takeQueuedRequests()).map { $0.map(\.name) } == [["again"]])
    }

    @Test(
        "function and HTTP attributes recorded as fields export as the same key-values as a dictionary, with any other attribute"
    )
    func fieldAttributes() throws {
        let (tracer, processor) = tracer(queue: 16, batch: 16)
        let server = tracer.startSpan("POST /functions/{name}", context: .topLevel, ofKind: .server)
        server.attributes["extra"] = "kept"
        server.record(RequestAttributes(function: "stock", method: "POST", path: "/functions/stock"))
        server.record(RequestAttributes(cold: false, route: "/functions/{name}", status: 200))
        let child = tracer.startSpan("inference", context: server.context, ofKind: .internal)
        let call: any FunctionCallSpan = child
        call.recordFunction("stock", model: "stock-lstm", version: 3, cold: true)
        // Reading the attributes back gives the fields too.
        #expect(child.attributes[FunctionSpans.versionKey]?.toSpanAttribute() == .int64(3))
        child.end()
        server.end()
        let exported = try #require(try spans(processor.takeQueuedRequests()).first)
        #expect(exported.count == 2)
        let (inference, root) = (exported[0], exported[1])
        #expect(inference.parentSpanID == root.spanID && root.parentSpanID.isEmpty)
        #expect(
            Self.attributes(inference) == [
                "mscr.function": "s:stock", "mscr.model": "s:stock-lstm", "mscr.model.version": "i:3",
                "mscr.cold": "b:true",
            ])
        #expect(
            Self.attributes(root) == [
                "http.request.method": "s:POST", "url.path": "s:/functions/stock", "http.route": "s:/functions/{name}",
                "http.response.status_code": "i:200", "mscr.function": "s:stock", "mscr.cold": "b:false",
                "extra": "s:kept",
            ])
        // The same attributes as a dictionary encode to the same key-values.
        var dictionary = SpanAttributes()
        RequestAttributes(function: "stock", model: "stock-lstm", version: 3, cold: true).forEach {
            dictionary[$0] = $1
        }
        let context = OTLPSpanContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3, sampled: true)
        let plain = FinishedSpan(
            name: "inference", kind: .internal, context: context, parentSpanID: 0, startNanoseconds: 1,
            endNanoseconds: 2, attributes: dictionary, status: nil, events: [])
        let decoded = try Request(
            serializedBytes: OTLPEncoder(serviceName: "s", resource: [:]).encode([plain]))
        let span = try #require(decoded.resourceSpans.first?.scopeSpans.first?.spans.first)
        #expect(Self.attributes(span) == Self.attributes(inference))
    }

    @Test("a name suffix is exported after the name and a space, and read back so; setting the name replaces both")
    func nameSuffix() throws {
        let (tracer, processor) = tracer(queue: 4, batch: 4)
        let span = tracer.startSpan("POST", context: .topLevel, ofKind: .server)
        span.record(RequestAttributes(), nameSuffix: "/functions/{name}")
        #expect(span.operationName == "POST /functions/{name}")
        span.record(RequestAttributes(), nameSuffix: "again")
        #expect(span.operationName == "POST /functions/{name} again")
        span.end()
        let renamed = tracer.startSpan("GET", context: .topLevel, ofKind: .server)
        renamed.record(RequestAttributes(), nameSuffix: "/x")
        renamed.operationName = "whole"
        renamed.end()
        let exported = try #require(try spans(processor.takeQueuedRequests()).first)
        #expect(exported.map(\.name) == ["POST /functions/{name} again", "whole"])
    }

    @Test("setting the attributes replaces the fields too; an ended span takes no more")
    func replaceAndEnd() throws {
        let (tracer, processor) = tracer(queue: 4, batch: 4)
        let span = tracer.startSpan("s", context: .topLevel, ofKind: .internal)
        span.recordFunction("stock", model: "m", version: nil, cold: nil)
        span.attributes = ["only": "this"]
        span.end()
        span.recordFunction("late", model: "late", version: 1, cold: true)
        let exported = try #require(try spans(processor.takeQueuedRequests()).first?.first)
        #expect(Self.attributes(exported) == ["only": "s:this"])
    }

    @Test("the gRPC server span's rpc attributes, recorded as fields, export with rpc.system grpc")
    func rpcAttributes() throws {
        let (tracer, processor) = tracer(queue: 4, batch: 4)
        let span = tracer.startSpan("inference.GRPCInferenceService/ModelInfer", context: .topLevel, ofKind: .server)
        var a = RequestAttributes(rpcService: "inference.GRPCInferenceService", rpcMethod: "ModelInfer")
        a.grpcStatus = 5
        RequestTracing.record(a, on: span)
        span.end()
        let exported = try #require(try spans(processor.takeQueuedRequests()).first?.first)
        #expect(
            Self.attributes(exported) == [
                "rpc.system": "s:grpc", "rpc.service": "s:inference.GRPCInferenceService", "rpc.method": "s:ModelInfer",
                "rpc.grpc.status_code": "i:5",
            ])
    }

    @Test("a batch buffer reused after an export carries no bytes of the spans exported before")
    func reusedBatchBuffer() throws {
        let (tracer, processor) = tracer(queue: 8, batch: 2)
        // Two batches of long spans, taken as an export takes them: their buffers go back for
        // the next batches.
        for i in 0..<4 {
            let span = tracer.startSpan("long\(i)", context: .topLevel, ofKind: .internal)
            span.attributes["padding"] = String(repeating: "x", count: 2000)
            span.recordFunction("stock", model: "stock-lstm", version: 7, cold: true)
            span.end()
        }
        #expect(try spans(processor.takeQueuedRequests()).map(\.count) == [2, 2])
        // Short spans, encoded into those buffers.
        for name in ["short", "shorter"] {
            let span = tracer.startSpan(name, context: .topLevel, ofKind: .internal)
            span.record(RequestAttributes(route: "/\(name)"))
            span.end()
        }
        let requests = processor.takeQueuedRequests()
        let batches = try spans(requests)
        #expect(batches.map { $0.map(\.name) } == [["short", "shorter"]])
        #expect(batches.first?.map(Self.attributes) == [["http.route": "s:/short"], ["http.route": "s:/shorter"]])
        #expect(requests.map(\.count).allSatisfy { $0 < 400 })
    }

    @Test("a request body reused from export to export holds only the new request")
    func reusedRequestBody() throws {
        let encoder = OTLPEncoder(serviceName: "s", resource: ["k": "v"])
        func span(_ name: String, padding: Int) -> FinishedSpan {
            let context = OTLPSpanContext(traceIDHigh: 1, traceIDLow: 2, spanID: UInt64(padding + 1), sampled: true)
            return FinishedSpan(
                name: name, kind: .internal, context: context, parentSpanID: 0, startNanoseconds: 1, endNanoseconds: 2,
                attributes: ["padding": .string(String(repeating: "x", count: padding))], status: nil, events: [])
        }
        let long = [span("a", padding: 3000), span("b", padding: 3000)]
        let short = [span("c", padding: 1)]
        var body = encoder.encode(long)
        let capacity = body.capacity
        encoder.encode(spanFields: OTLPEncoder.spanFields(short), into: &body)
        // Fresh: the same bytes as a request encoded into an empty buffer, in the old storage.
        #expect(body == encoder.encode(short))
        #expect(body.capacity == capacity)
        let decoded = try Request(serializedBytes: body)
        #expect(decoded.resourceSpans.first?.scopeSpans.first?.spans.map(\.name) == ["c"])
    }

    /// (`rpcService`, which brings `rpc.system`, is checked decoded, by ``rpcAttributes()``.)
    @Test("each request attribute field encodes to the bytes of the same key-value in a SpanAttributes dictionary")
    func fieldBytes() {
        let long = String(repeating: "p", count: 300)  // lengths of two varint bytes
        let single: [RequestAttributes] = [
            RequestAttributes(function: "stock"), RequestAttributes(model: "stock-lstm"),
            RequestAttributes(version: 0), RequestAttributes(version: 1 << 40), RequestAttributes(cold: false),
            RequestAttributes(cold: true), RequestAttributes(method: "POST"), RequestAttributes(path: long),
            RequestAttributes(route: "/functions/{name}"), RequestAttributes(status: 503),
            RequestAttributes(rpcMethod: "ModelInfer"),
            RequestAttributes(grpcStatus: 14), RequestAttributes(function: String(repeating: "f", count: 200)),
        ]
        let context = OTLPSpanContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3, sampled: true)
        func span(_ known: RequestAttributes, _ attributes: SpanAttributes) -> [UInt8] {
            OTLPEncoder.spanFields([
                FinishedSpan(
                    name: "s", kind: .internal, context: context, parentSpanID: 0, startNanoseconds: 1,
                    endNanoseconds: 2, attributes: attributes, known: known, status: nil, events: [])
            ])
        }
        for known in single {
            var dictionary = SpanAttributes()
            known.forEach { dictionary[$0] = $1 }
            #expect(span(known, [:]) == span(RequestAttributes(), dictionary), "\(known)")
        }
    }

    @Test("spans of request attributes only are written sized up front with the bytes of the general encoder")
    func fastPathBytes() throws {
        let long = String(repeating: "n", count: 200)
        let known = RequestAttributes(
            function: "stock", model: "stock-lstm", version: 1 << 40, cold: false, method: "POST", path: long,
            route: "/functions/{name}", status: 503, rpcService: "svc", rpcMethod: "M", grpcStatus: 14)
        var spans: [FinishedSpan] = []
        for (i, name) in ["inference", "", long].enumerated() {
            for status in [
                nil, SpanStatus(code: .ok), SpanStatus(code: .error, message: "failed"),
                SpanStatus(code: .error, message: ""),
            ] {
                let context = OTLPSpanContext(
                    traceIDHigh: 0x0102_0304_0506_0708, traceIDLow: UInt64(i), spanID: 0xFFFF_0000_0000_0001,
                    sampled: i != 1, traceState: i == 2 ? "k=v,\(long)" : nil)
                spans.append(
                    FinishedSpan(
                        name: name, kind: [.server, .internal, .client][i], context: context,
                        parentSpanID: UInt64(i) * 7, startNanoseconds: UInt64(i) * 1_000_000_007,
                        endNanoseconds: UInt64.max - UInt64(i), attributes: [:],
                        known: i == 0 ? RequestAttributes(function: "f") : known, status: status, events: []))
            }
        }
        // A name in two parts (a server span's method, then its route) too.
        for i in spans.indices where i % 3 != 0 {
            var suffixed = spans[i]
            suffixed.nameSuffix = i % 3 == 1 ? "/functions/{name}" : ""
            spans.append(suffixed)
        }
        for span in spans {
            #expect(OTLPEncoder.spanFields([span]) == OTLPEncoder.spanFields([span], fastPath: false), "\(span.name)")
        }
        let all = OTLPEncoder.spanFields(spans)
        #expect(all == OTLPEncoder.spanFields(spans, fastPath: false))
        var body: [UInt8] = []
        OTLPEncoder(serviceName: "s", resource: [:]).encode(spanFields: all, into: &body)
        let decoded = try Request(serializedBytes: body)
        #expect(decoded.resourceSpans.first?.scopeSpans.first?.spans.count == spans.count)
    }
}
