import MSCRFunctions

/// CountPeople over the V2 tensor protocol (`POST /v2/models/count-people/infer`, gRPC
/// `ModelInfer`): the photo in `image` (one `BYTES` element), `atLeast` as a request parameter,
/// the answer as three tensors. The same handler answers both protocols.
extension CountPeople: TensorInterface {
    /// `image` BYTES [1]: a JPEG or PNG file.
    public static let inputTensors = [TensorDescriptor("image", .bytes, [1])]

    /// `people` INT64 [1], `enough` BOOL [1], `scores` FP32 [-1] (one per person, highest first).
    public static let outputTensors = [
        TensorDescriptor("people", .int64, [1]), TensorDescriptor("enough", .bool, [1]),
        TensorDescriptor("scores", .fp32, [-1]),
    ]

    /// The image, and `parameters.atLeast` (a whole number; default 1).
    public func input(from tensors: TensorInputs) throws -> Input {
        var atLeast: Int?
        if let value = try tensors.number("atLeast", in: 0..<1e9) {
            guard value == value.rounded() else {
                throw FunctionFailure.invalidInput("parameter 'atLeast' must be a whole number, got \(value)")
            }
            atLeast = Int(value)
        }
        return Input(image: try tensors.image("image"), atLeast: atLeast)
    }

    /// The count, the verdict and the scores.
    public func outputTensors(from output: Output) throws -> [NamedTensor] {
        [
            try NamedTensor(name: "people", shape: [1], elements: .int64([Int64(output.people)])),
            try NamedTensor(name: "enough", shape: [1], elements: .bool([output.enough])),
            try NamedTensor(name: "scores", shape: [output.scores.count], elements: .fp32(output.scores)),
        ]
    }
}
