import Foundation
import Testing

@testable import Functions
@testable import Inference

/// Loading a detect model. (What a request to the detect function may carry, and the errors it
/// gets, are tested through the runtime: RuntimeTests' `DetectRequestTests`.)
@Suite("Detect model loading")
struct DetectLoadingTests {
    @Test func weightsThatDoNotMatchTheCfgNameTheLayer() throws {
        let weights = try DetectShared.bytes("data/models/yolo-fastest-1.1/yolo-fastest-1.1.weights")
        let version = try detectRepository(model: "yolo-fastest-1.1", weights: Array(weights.dropLast(1000)))
        let config = FunctionConfig(name: "detect", kind: "darknet-yolo", model: "yolo-fastest-1.1")
        let error = try #require(throws: FunctionError.self) {
            try DetectLoader.darknet(config: config, model: version)
        }
        #expect(
            error.message.contains("expected \(weights.count) bytes, got \(weights.count - 1000)"), "\(error.message)")
        #expect(error.message.contains("layer 129 [convolutional]"), "\(error.message)")
    }

    @Test func classNamesSkipBlankLines() {
        #expect(DetectLoader.classNames("person\n\nbicycle \r\ncar\n") == ["person", "bicycle", "car"])
    }
}
