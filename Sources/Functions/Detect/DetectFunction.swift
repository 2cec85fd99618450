import Common
import FoundationEssentials
import Inference

/// A loaded Darknet detect model (kind `detect` or `darknet-yolo`): the network, its class names
/// and the function's settings. Immutable and shared by every request; each call borrows scratch
/// memory from the network's pool. The public `DetectionModel` and the CLI go through
/// `DetectingFunction`.
package final class DetectFunction: DetectingFunction {
    package let network: DarknetNetwork
    /// Class names, index = class id.
    package let classNames: [String]
    package let modelName: String
    package let version: Int
    /// Default score threshold (`params.threshold`); a request may override it with `?threshold=`.
    package let threshold: Float
    /// The lowest score threshold a request may ask for.
    package static let minimumThreshold: Float = 0.01
    /// NMS overlap threshold (`params.nms`); 0 turns NMS off.
    package let nms: Float
    /// Largest decoded image accepted (`limits.maxPixels`), checked from the header.
    package let maxPixels: Int

    package init(
        network: DarknetNetwork, classNames: [String], modelName: String, version: Int,
        threshold: Float = 0.25, nms: Float = 0.45, maxPixels: Int = 40_000_000
    ) {
        self.network = network
        self.classNames = classNames
        self.modelName = modelName
        self.version = version
        self.threshold = threshold
        self.nms = nms
        self.maxPixels = maxPixels
    }

    /// Detects objects in a decoded image.
    package func detect(image: RGBImage, threshold: Float? = nil) throws -> DetectionResult {
        let t = threshold ?? self.threshold
        try Self.checkThreshold(t)
        do {
            return try network.detect(image, threshold: t, nms: nms)
        } catch let error as InferenceError {
            throw FunctionError(.internal, "detection failed: \(error.message)", underlying: error)
        }
    }

    /// The network's weights and scratch arenas (for the memory budget).
    package var memoryBytes: Int? { network.memoryBytes }
}
