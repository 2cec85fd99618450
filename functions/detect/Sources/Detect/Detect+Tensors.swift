import MSCRFunctions

/// The detect function's V2 tensors: `image` BYTES [1] (a JPEG or PNG file, or its base64 text)
/// → `boxes` FP32 [-1, 4] (x1, y1, x2, y2 in pixels of the original image), `scores` FP32 [-1],
/// `classes` INT32 [-1], `labels` BYTES [-1]; the request parameter `threshold` (a number in
/// [0, 1)) overrides the model's.
extension ObjectDetection {
    /// `image` BYTES [1].
    public static var inputTensors: [TensorDescriptor] { [TensorDescriptor("image", .bytes, [1])] }

    /// `boxes`, `scores`, `classes`, `labels`.
    public static var outputTensors: [TensorDescriptor] {
        [
            TensorDescriptor("boxes", .fp32, [-1, 4]), TensorDescriptor("scores", .fp32, [-1]),
            TensorDescriptor("classes", .int32, [-1]), TensorDescriptor("labels", .bytes, [-1]),
        ]
    }

    /// `"darknet-yolo"`, for both kinds and both model formats (as before the function moved here).
    public static var tensorPlatform: String { "darknet-yolo" }

    /// The image and the `threshold` parameter.
    public func input(from tensors: TensorInputs) throws -> DetectInput {
        let image = try tensors.image("image")
        return DetectInput(image: image, threshold: try tensors.number("threshold", in: 0..<1).map { Float($0) })
    }

    /// One row per detection, highest score first.
    public func outputTensors(from output: DetectedImage) throws -> [NamedTensor] {
        let detections = output.detections
        let n = detections.count
        var boxes: [Float] = []
        boxes.reserveCapacity(n * 4)
        for d in detections {
            boxes += [Float(d.box.x1), Float(d.box.y1), Float(d.box.x2), Float(d.box.y2)]
        }
        return [
            try NamedTensor(name: "boxes", shape: [n, 4], elements: .fp32(boxes)),
            try NamedTensor(name: "scores", shape: [n], elements: .fp32(detections.map(\.score))),
            try NamedTensor(
                name: "classes", shape: [n], elements: .int32(detections.map { Int32(clamping: $0.classID) })),
            try NamedTensor(name: "labels", shape: [n], elements: .bytes(detections.map { Array($0.label.utf8) })),
        ]
    }
}
