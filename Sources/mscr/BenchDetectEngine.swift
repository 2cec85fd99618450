import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import ONNX

/// What `mscr bench detect` times, a Darknet network or an ONNX detect export: the same stages
/// and the same JSON for both.
struct BenchDetectEngine {
    /// The model file's name.
    let model: String
    /// `WxH` of the network input.
    let input: String
    /// Floating-point operations of one forward.
    let flops: Int
    /// Rows of the `--layers` table: Darknet layers or ONNX steps.
    let layerCount: Int
    /// One detection, each layer's (step's) seconds into the buffer when given.
    let detect: (RGBImage, Float, UnsafeMutableBufferPointer<Double>?) throws -> DetectionResult
    /// The fixed fields of layer `i`'s row of the table.
    let describe: (Int) -> [String: JSONValue]

    /// A Darknet cfg + weights.
    static func darknet(cfg: String, weights: String, size: Int?) throws -> BenchDetectEngine {
        let network = try DetectCLI.network(cfg: cfg, weights: weights, size: size)
        return BenchDetectEngine(
            model: Path.lastComponent(cfg), input: "\(network.input.width)x\(network.input.height)",
            flops: network.flops, layerCount: network.layers.count,
            detect: { image, threshold, times in
                try network.detect(image, threshold: threshold, nms: 0.45, layerTimes: times)
            },
            describe: { l in
                let layer = network.layers[l]
                let shape = layer.outputShape
                var entry: [String: JSONValue] = [
                    "index": l.json, "type": layer.type.json,
                    "output": "\(shape.channels)x\(shape.height)x\(shape.width)".json,
                    "gflop": BenchDetectCommand.round(Double(layer.flops) / 1e9).json,
                ]
                // A shortcut the convolution before it adds as it stores (ResidualFusion).
                if let shortcut = layer as? ShortcutLayer, shortcut.fused { entry["fused_into"] = (l - 1).json }
                return entry
            })
    }

    /// A YOLOv5u/v8/11-style ONNX export, run as the `detect` kind runs it (letterbox, forward,
    /// class-wise NMS with IoU 0.7).
    static func onnx(_ path: String) throws -> BenchDetectEngine {
        let network = try ONNXCommand.load(path)
        let function: ONNXDetectFunction
        do {
            function = try ONNXDetectFunction(
                network: network, classNames: [], modelName: Path.lastComponent(path), version: 0)
        } catch let error as FunctionError {
            throw ValidationError("\(path): \(error.message)")
        }
        return BenchDetectEngine(
            model: Path.lastComponent(path), input: "\(function.inputWidth)x\(function.inputHeight)",
            flops: network.convolutionFlops, layerCount: network.stepCount,
            detect: { image, threshold, times in try function.detect(image, threshold: threshold, stepTimes: times) },
            describe: { i in ["index": i.json, "type": network.describeStep(i).json] })
    }
}
