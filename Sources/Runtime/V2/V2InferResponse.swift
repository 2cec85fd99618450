import Functions
import HTTPTypes
import Hummingbird

/// The body of an infer response: `{"model_name", "model_version", "id"?, "outputs": [...]}`,
/// each output with `data`, or, when it is binary, `parameters.binary_data_size` and its bytes
/// after the JSON (then the response is `application/octet-stream` with
/// `Inference-Header-Content-Length`).
struct V2InferResponse: Sendable {
    var json: [UInt8]
    var binary: [UInt8]
    /// Whether any output is binary (its section may still be empty: zero detections).
    var isBinary: Bool

    /// Encodes the outputs the request asked for (all of them, in the model's order, when it
    /// named none), binary where asked.
    init(model: String, version: Int, request: V2InferRequest, outputs: [Tensor]) throws {
        let selected = try Self.select(outputs, for: request)
        var binary: [UInt8] = []
        var items: [String] = []
        for (tensor, isBinary) in selected {
            var item = "{\"name\":\(V2Response.quote(tensor.name)),\"datatype\":\"\(tensor.datatype.rawValue)\","
            item += "\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
            if isBinary {
                let bytes = V2TensorCoding.encodeBinary(tensor.data)
                binary += bytes
                item += "\"parameters\":{\"binary_data_size\":\(bytes.count)}}"
            } else {
                item += "\"data\":\(try V2TensorCoding.encodeJSON(tensor.data, name: tensor.name))}"
            }
            items.append(item)
        }
        var text = "{\"model_name\":\(V2Response.quote(model)),\"model_version\":\"\(version)\","
        if let id = request.id { text += "\"id\":\(V2Response.quote(id))," }
        text += "\"outputs\":[\(items.joined(separator: ","))]}"
        self.json = Array(text.utf8)
        self.binary = binary
        self.isBinary = selected.contains { $0.1 }
    }

    /// The outputs the request asked for (all of them, in the model's order, when it named
    /// none), each with whether it goes binary.
    static func select(_ outputs: [Tensor], for request: V2InferRequest) throws -> [(Tensor, Bool)] {
        guard let wanted = request.outputs else { return outputs.map { ($0, request.binaryOutput) } }
        return try wanted.map { w in
            guard let tensor = outputs.first(where: { $0.name == w.name }) else {
                throw FunctionError(.invalidInput, "the model has no output named '\(w.name)'")
            }
            return (tensor, w.binary ?? request.binaryOutput)
        }
    }

    /// The HTTP response: plain JSON, or JSON then the binary section.
    func response(extraHeaders: HTTPFields) -> Response {
        var headers = extraHeaders
        headers[.cacheControl] = "no-store"
        guard isBinary else {
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        headers[.contentType] = "application/octet-stream"
        headers[V2Response.inferenceHeaderLength] = String(json.count)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + binary.count)
        buffer.writeBytes(json)
        buffer.writeBytes(binary)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }
}
