extension DetectionResult {
    /// A result built outside this module (the ONNX detect function), with its stage timings in
    /// seconds.
    package init(
        imageWidth: Int, imageHeight: Int, detections: [Detection], preprocess: Double, forward: Double,
        postprocess: Double
    ) {
        self.init(
            width: imageWidth, height: imageHeight, detections: detections,
            timings: DetectionTimings(preprocess: preprocess, forward: forward, postprocess: postprocess))
    }
}
