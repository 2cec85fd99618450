import MSCRFunctions

/// Counts the people in a photo and says whether there are at least `atLeast` of them.
///
/// `POST /functions/count-people?atLeast=3` with a JPEG or PNG body answers
/// `{"enough": true, "people": 4, "required": 3, "threshold": 0.4, "scores": [...]}`.
public struct CountPeople: InferenceFunction {
    /// The photo (the request body) and the number of people asked for (`?atLeast=`, default 1).
    public struct Input: Decodable, Sendable {
        public var image: EncodedImage
        public var atLeast: Int?
    }

    /// How many people were found and whether that is enough.
    public struct Output: Codable, Sendable, Equatable {
        /// People found scoring at least `threshold`.
        public var people: Int
        /// `people >= required`.
        public var enough: Bool
        /// The `atLeast` this answer was checked against.
        public var required: Int
        /// The score threshold used (`params.threshold`).
        public var threshold: Float
        /// Each person's score, highest first.
        public var scores: [Float]
        /// The model version that answered.
        public var modelVersion: Int
    }

    public typealias Model = DetectionModel

    /// The name `function.json` uses: `"kind": "count-people"`.
    public static let kind = "count-people"

    /// A detection must score at least this to count (`params.threshold`, default 0.4).
    public let threshold: Float

    public init(parameters: FunctionParameters) throws {
        try parameters.allowOnly(["threshold", "nms"])
        threshold = try parameters.float("threshold", default: 0.4, in: 0.01...0.99)
    }

    public func handle(_ input: Input, model: DetectionModel, context: FunctionContext) throws -> Output {
        let required = input.atLeast ?? 1
        guard required >= 0 else {
            throw FunctionFailure.invalidInput("atLeast must be 0 or more, got \(required)")
        }
        let people = try model.detect(input.image, threshold: threshold).filter { $0.label == "person" }
        context.logger.debug("counted people", metadata: ["people": "\(people.count)", "required": "\(required)"])
        return Output(
            people: people.count, enough: people.count >= required, required: required, threshold: threshold,
            scores: people.map(\.score), modelVersion: context.modelVersion)
    }
}
