import Functions
import Tracing

/// The attributes of a traced request's spans (the function call's, HTTP's and gRPC's) as
/// fields, not a `SpanAttributes` dictionary:
/// no hashing and no dictionary storage per span, and ``OTLPEncoder`` writes them straight to
/// protobuf. nil: not set (not exported).
package struct RequestAttributes: Sendable, Equatable {
    /// ``FunctionSpans/functionKey``.
    package var function: String?
    /// ``FunctionSpans/modelKey``.
    package var model: String?
    /// ``FunctionSpans/versionKey``.
    package var version: Int?
    /// ``FunctionSpans/coldKey``.
    package var cold: Bool?
    /// `http.request.method`.
    package var method: String?
    /// `url.path`.
    package var path: String?
    /// `http.route`.
    package var route: String?
    /// `http.response.status_code`.
    package var status: Int?
    /// `rpc.service`; when set, `rpc.system` is `grpc`.
    package var rpcService: String?
    /// `rpc.method`.
    package var rpcMethod: String?
    /// `rpc.grpc.status_code`.
    package var grpcStatus: Int?

    package init(
        function: String? = nil, model: String? = nil, version: Int? = nil, cold: Bool? = nil, method: String? = nil,
        path: String? = nil, route: String? = nil, status: Int? = nil, rpcService: String? = nil,
        rpcMethod: String? = nil, grpcStatus: Int? = nil
    ) {
        self.function = function
        self.model = model
        self.version = version
        self.cold = cold
        self.method = method
        self.path = path
        self.route = route
        self.status = status
        self.rpcService = rpcService
        self.rpcMethod = rpcMethod
        self.grpcStatus = grpcStatus
    }

    /// Takes the fields `other` sets (all of `other`, moved, when none is set here yet: a
    /// server span's attributes are recorded once).
    mutating func merge(_ other: consuming RequestAttributes) {
        if self == Self.none {
            self = other
            return
        }
        if let v = other.function { function = v }
        if let v = other.model { model = v }
        if let v = other.version { version = v }
        if let v = other.cold { cold = v }
        if let v = other.method { method = v }
        if let v = other.path { path = v }
        if let v = other.route { route = v }
        if let v = other.status { status = v }
        if let v = other.rpcService { rpcService = v }
        if let v = other.rpcMethod { rpcMethod = v }
        if let v = other.grpcStatus { grpcStatus = v }
    }

    /// No field set (a phase's span: its function fields are passed on their own).
    static let none = RequestAttributes()

    /// The fields' attribute keys, for every writer of them (``forEach(_:)``,
    /// ``ProtobufWriter/requestAttributes(_:)``, ``SpanFieldWriter``), each shorter than 128
    /// bytes. The function's are ``FunctionSpans``' keys (`OTLPBatchTests.fieldBytes` checks
    /// they encode alike).
    enum Key {
        static let method: StaticString = "http.request.method"
        static let path: StaticString = "url.path"
        static let route: StaticString = "http.route"
        static let status: StaticString = "http.response.status_code"
        static let rpcSystem: StaticString = "rpc.system"
        static let rpcService: StaticString = "rpc.service"
        static let rpcMethod: StaticString = "rpc.method"
        static let grpcStatus: StaticString = "rpc.grpc.status_code"
        static let function: StaticString = "mscr.function"
        static let model: StaticString = "mscr.model"
        static let version: StaticString = "mscr.model.version"
        static let cold: StaticString = "mscr.cold"
        /// `rpc.system`'s value.
        static let grpc: StaticString = "grpc"
    }

    /// Calls `body` with each set field's key and value, in the order they are encoded.
    package func forEach(_ body: (String, SpanAttribute) -> Void) {
        if let method { body(Key.method.description, .string(method)) }
        if let path { body(Key.path.description, .string(path)) }
        if let route { body(Key.route.description, .string(route)) }
        if let status { body(Key.status.description, .int64(Int64(status))) }
        if let rpcService {
            body(Key.rpcSystem.description, .string(Key.grpc.description))
            body(Key.rpcService.description, .string(rpcService))
        }
        if let rpcMethod { body(Key.rpcMethod.description, .string(rpcMethod)) }
        if let grpcStatus { body(Key.grpcStatus.description, .int64(Int64(grpcStatus))) }
        if let function { body(FunctionSpans.functionKey, .string(function)) }
        if let model { body(FunctionSpans.modelKey, .string(model)) }
        if let version { body(FunctionSpans.versionKey, .int64(Int64(version))) }
        if let cold { body(FunctionSpans.coldKey, .bool(cold)) }
    }
}

extension ProtobufWriter {
    /// The set fields of `a` as `Span.attributes` key-values, in ``RequestAttributes/forEach(_:)``'s
    /// order and with the bytes ``keyValue(_:_:)`` writes for each, but straight from the
    /// fields: no `SpanAttribute` built, lengths computed up front (nothing moved).
    mutating func requestAttributes(_ a: RequestAttributes) {
        typealias Key = RequestAttributes.Key
        if let method = a.method { stringAttribute(Key.method.description, method) }
        if let path = a.path { stringAttribute(Key.path.description, path) }
        if let route = a.route { stringAttribute(Key.route.description, route) }
        if let status = a.status { intAttribute(Key.status.description, Int64(status)) }
        if let rpcService = a.rpcService {
            stringAttribute(Key.rpcSystem.description, Key.grpc.description)
            stringAttribute(Key.rpcService.description, rpcService)
        }
        if let rpcMethod = a.rpcMethod { stringAttribute(Key.rpcMethod.description, rpcMethod) }
        if let grpcStatus = a.grpcStatus { intAttribute(Key.grpcStatus.description, Int64(grpcStatus)) }
        if let function = a.function { stringAttribute(FunctionSpans.functionKey, function) }
        if let model = a.model { stringAttribute(FunctionSpans.modelKey, model) }
        if let version = a.version { intAttribute(FunctionSpans.versionKey, Int64(version)) }
        if let cold = a.cold {
            keyValueHead(FunctionSpans.coldKey, anyValueLength: 2)
            tag(2, 0)  // AnyValue.bool_value
            bytes.append(cold ? 1 : 0)
        }
    }

    private mutating func stringAttribute(_ key: String, _ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            keyValueHead(key, anyValueLength: 1 + Self.varintSize(utf8.count) + utf8.count)
            tag(1, 2)  // AnyValue.string_value
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    private mutating func intAttribute(_ key: String, _ value: Int64) {
        let v = UInt64(bitPattern: value)
        keyValueHead(key, anyValueLength: 1 + Self.varintSize(v))
        tag(3, 0)  // AnyValue.int_value
        varint(v)
    }

    /// A `Span.attributes` field's tag and length, the `KeyValue.key` and the tag and length of
    /// `KeyValue.value` (an `AnyValue` of `anyValueLength` bytes, written next).
    private mutating func keyValueHead(_ key: String, anyValueLength: Int) {
        var key = key
        key.withUTF8 { utf8 in
            let keyValue =
                1 + Self.varintSize(utf8.count) + utf8.count + 1 + Self.varintSize(anyValueLength) + anyValueLength
            tag(9, 2)  // Span.attributes
            varint(UInt64(keyValue))
            tag(1, 2)  // KeyValue.key
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
            tag(2, 2)  // KeyValue.value
            varint(UInt64(anyValueLength))
        }
    }
}
