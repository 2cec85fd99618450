import Inference

extension DetectFunction {
    /// `image` BYTES [1] (an encoded JPEG or PNG) → `boxes` FP32 [-1, 4] (x1, y1, x2, y2 in
    /// pixels of the original image), `scores` FP32 [-1], `classes` INT32 [-1], `labels` BYTES [-1].
    package static let staticTensorSignature = TensorSignature(
        platform: "darknet-yolo",
        inputs: [TensorSpec("image", .bytes, [1])],
        outputs: [
            TensorSpec("boxes", .fp32, [-1, 4]), TensorSpec("scores", .fp32, [-1]),
            TensorSpec("classes", .int32, [-1]), TensorSpec("labels", .bytes, [-1]),
        ])

    /// The image file in a `BYTES` element: the element itself when it sniffs as JPEG or PNG
    /// (no image file is valid base64 text, so the two cannot be confused), else its base64
    /// decoding when it is base64, else the element (which the decoder then rejects).
    package static func imagePayload(_ element: [UInt8]) -> [UInt8] {
        if ImageCodec.sniff(element) != nil { return element }
        if let decoded = TensorBase64.decode(element), !decoded.isEmpty { return decoded }
        return element
    }
}

/// The V2 face of every detect function, Darknet or ONNX: the same signature and tensors.
extension DetectingFunction {
    package var tensorSignature: TensorSignature { DetectFunction.staticTensorSignature }

    /// Detects objects in the one image of `image`. The element is the file itself or, when it
    /// is not a JPEG/PNG but is base64 text (a JSON string), its base64 encoding. The request
    /// parameter `threshold` (a number in [0, 1)) overrides the function's score threshold.
    package func infer(_ request: TensorRequest) throws -> [Tensor] {
        guard case .bytes(let elements) = try request.input("image").data, let element = elements.first else {
            throw FunctionError(.invalidInput, "input 'image' must be one BYTES element")
        }
        var threshold: Float? = nil
        if let parameter = request.parameters["threshold"] {
            guard let t = parameter.number, t.isFinite, t >= 0, t < 1 else {
                throw FunctionError(.invalidInput, "parameter 'threshold' must be a number in [0, 1)")
            }
            threshold = Float(t)
        }
        let result = try detect(imageBytes: DetectFunction.imagePayload(element), threshold: threshold)
        let detections = result.detections
        let n = detections.count
        var boxes: [Float] = []
        boxes.reserveCapacity(n * 4)
        for d in detections {
            boxes += [Float(d.box.x1), Float(d.box.y1), Float(d.box.x2), Float(d.box.y2)]
        }
        let labels = detections.map { d in
            Array((d.classID < classNames.count ? classNames[d.classID] : "class \(d.classID)").utf8)
        }
        return [
            try Tensor(name: "boxes", shape: [n, 4], data: .fp32(boxes)),
            try Tensor(name: "scores", shape: [n], data: .fp32(detections.map(\.score))),
            try Tensor(name: "classes", shape: [n], data: .int32(detections.map { Int32(clamping: $0.classID) })),
            try Tensor(name: "labels", shape: [n], data: .bytes(labels)),
        ]
    }
}
