import Common
import Dispatch
import Inference
import ONNX

/// A loaded ONNX detect model (kind `detect` on a model of format `onnx`): a YOLOv5u/v8/11-style
/// export with one input `[1, 3, H, W]` and an output `[1, 4 + classes, anchors]` (box centre and
/// size in input pixels, then sigmoid class scores), run as Ultralytics' predictor does:
/// `UltralyticsLetterbox`, RGB / 255, forward, `UltralyticsPostprocess` (class-wise NMS), boxes
/// mapped back to and clipped to the image. Immutable and shared; scratch memory is per call.
package final class ONNXDetectFunction: DetectingFunction {
    package let network: ONNXNetwork
    package let classNames: [String]
    package let modelName: String
    package let version: Int
    /// Default score threshold (`params.threshold`, Ultralytics' `conf`); `?threshold=` overrides it.
    package let threshold: Float
    /// NMS IoU threshold (`params.nms`, Ultralytics' `iou`, default 0.7 as in its predictor).
    package let iou: Float
    /// Most detections answered (`params.max_det`, Ultralytics' `max_det`).
    package let maxDetections: Int
    package let maxPixels: Int
    /// The graph's image input and its size.
    package let inputName: String
    package let inputWidth: Int
    package let inputHeight: Int
    /// Classes and boxes of the output `[1, 4 + classCount, anchorCount]`.
    package let classCount: Int
    package let anchorCount: Int

    /// Checks that `network` has the shape of an Ultralytics detection export; the error says
    /// what it has instead.
    package init(
        network: ONNXNetwork, classNames: [String], modelName: String, version: Int, threshold: Float = 0.25,
        iou: Float = 0.7, maxDetections: Int = 300, maxPixels: Int = 40_000_000
    ) throws {
        let inputs = network.inputs.map(\.description).joined(separator: ", ")
        let outputs = network.outputs.map(\.description).joined(separator: ", ")
        let expected =
            "kind 'detect' serves ONNX exports with one input [1, 3, H, W] and one output [1, 4+classes, boxes] "
            + "(Ultralytics YOLOv5u/v8/11); this graph has inputs \(inputs) and outputs \(outputs)"
        guard network.inputs.count == 1, network.outputs.count == 1 else {
            throw FunctionError(.invalidInput, expected)
        }
        let input = network.inputs[0].shape
        let output = network.outputs[0].shape
        guard input.count == 4, input[0] == 1, input[1] == 3, input[2] > 0, input[3] > 0,
            output.count == 3, output[0] == 1, output[1] > 4, output[2] > 0
        else { throw FunctionError(.invalidInput, expected) }
        self.network = network
        self.classNames = classNames
        self.modelName = modelName
        self.version = version
        self.threshold = threshold
        self.iou = iou
        self.maxDetections = maxDetections
        self.maxPixels = maxPixels
        inputName = network.inputs[0].name
        inputHeight = input[2]
        inputWidth = input[3]
        classCount = output[1] - 4
        anchorCount = output[2]
    }

    /// The graph's constants and one call's buffers, plus the input it fills.
    package var memoryBytes: Int? { network.memoryBytes + 4 * 3 * inputWidth * inputHeight }

    package func detect(image: RGBImage, threshold: Float?) throws -> DetectionResult {
        let t = threshold ?? self.threshold
        try Self.checkThreshold(t)
        return try detect(image, threshold: t)
    }

    /// Letterbox, forward (each step's seconds into `stepTimes` when given), post-processing.
    package func detect(
        _ image: RGBImage, threshold: Float, stepTimes: UnsafeMutableBufferPointer<Double>? = nil
    ) throws -> DetectionResult {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let letterbox = UltralyticsLetterbox(
            imageWidth: image.width, imageHeight: image.height, inputWidth: inputWidth, inputHeight: inputHeight)
        var input = [Float](repeating: 0, count: 3 * inputWidth * inputHeight)
        input.withUnsafeMutableBufferPointer { letterbox.fill(image, into: $0.baseAddress!) }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let outputs: [[Float]]
        do {
            outputs = try network.run([inputName: input], stepTimes: stepTimes)
        } catch let error as ONNXError {
            throw FunctionError(.internal, "detection failed: \(error.message)", underlying: error)
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        let detections = outputs[0].withUnsafeBufferPointer {
            UltralyticsPostprocess.detections(
                $0, classes: classCount, anchors: anchorCount, letterbox: letterbox, threshold: threshold, iou: iou,
                maxDetections: maxDetections)
        }
        let t3 = DispatchTime.now().uptimeNanoseconds
        return DetectionResult(
            imageWidth: image.width, imageHeight: image.height, detections: detections,
            preprocess: Double(t1 - t0) / 1e9, forward: Double(t2 - t1) / 1e9, postprocess: Double(t3 - t2) / 1e9)
    }
}
