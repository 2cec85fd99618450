import FoundationEssentials
import SwiftProtobuf

@testable import ONNX

/// Seeded uniform floats in [-1, 1) (a 64-bit LCG), so every test sees the same data.
struct SeededFloats {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// Builds ONNX models in code, the way `onnx.helper` does.
enum ModelBuilder {
    static func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map { Int64($0) }
        t.dataType = 1
        t.floatData = values
        return t
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = 7
        t.int64Data = values.map { Int64($0) }
        return t
    }

    static func attr(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = ints.map { Int64($0) }
        return a
    }

    static func attr(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(int)
        return a
    }

    static func attr(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = float
        return a
    }

    static func attr(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(string.utf8)
        return a
    }

    static func node(
        _ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
        _ attributes: [Onnx_AttributeProto] = []
    ) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name ?? "\(op.lowercased())_\(outputs.first ?? "")"
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        return n
    }

    static func valueInfo(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = 1
        var s = Onnx_TensorShapeProto()
        s.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(d)
            return dim
        }
        t.shape = s
        v.type.tensorType = t
        return v
    }

    static func model(
        nodes: [Onnx_NodeProto], inputs: [(String, [Int])], outputs: [String],
        initializers: [Onnx_TensorProto] = [], opset: Int = 17
    ) -> Onnx_ModelProto {
        var g = Onnx_GraphProto()
        g.name = "test"
        g.node = nodes
        g.input = inputs.map { valueInfo($0.0, $0.1) }
        g.output = outputs.map { valueInfo($0, []) }
        g.initializer = initializers
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var o = Onnx_OperatorSetIdProto()
        o.version = Int64(opset)
        m.opsetImport = [o]
        m.graph = g
        return m
    }

    /// Serializes `model`, imports the bytes and runs it on `feeds`.
    static func run(_ model: Onnx_ModelProto, _ feeds: [String: [Float]]) throws -> [[Float]] {
        let bytes: [UInt8] = try model.serializedBytes()
        return try ONNXImporter.load(bytes).run(feeds)
    }

    /// Imports `model` from its bytes and returns the refusal message (nil when it loads).
    static func refusal(_ model: Onnx_ModelProto) throws -> String? {
        let bytes: [UInt8] = try model.serializedBytes()
        do {
            _ = try ONNXImporter.load(bytes)
            return nil
        } catch let error as ONNXError {
            return error.message
        }
    }
}

/// Whether `a` and `b` agree within `1e-4 × max(1, max|b|)`.
func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4) -> Bool {
    guard a.count == b.count else { return false }
    let scale = max(1, b.map { abs($0) }.max() ?? 0)
    return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * scale }
}
