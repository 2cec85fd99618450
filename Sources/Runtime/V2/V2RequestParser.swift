/// The V2 request parser as other modules see it (the fuzz targets): decodes and checks an
/// infer body exactly as `POST /v2/models/{name}/infer` does, and says how many inputs it had.
package enum V2RequestParser {
    /// Throws `FunctionError(.invalidInput)` for every body the route would answer 400.
    @discardableResult
    package static func decode(body: [UInt8], headerLength: String?) throws -> Int {
        try V2InferRequest.decode(body: body, headerLength: headerLength).tensors.inputs.count
    }
}
