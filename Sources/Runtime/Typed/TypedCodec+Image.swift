import Common
import Functions

extension TypedCodec {
    /// The image bytes of a request to an image-only function (``InputBody/imageOnly``): the body
    /// itself (JPEG, PNG, octet-stream or no type) or the `file` part of a multipart form, in the
    /// order of checks detect has always answered with.
    static func imageBytes(of request: FunctionRequest) throws -> [UInt8] {
        let type =
            request.contentType?.split(separator: ";").first.map {
                $0.trimmed.lowercased()
            } ?? ""
        let bytes: [UInt8]
        switch type {
        case "", "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "application/octet-stream":
            bytes = request.body
        case "multipart/form-data":
            guard let boundary = MultipartBody.boundary(of: request.contentType ?? "") else {
                throw FunctionError(.invalidInput, "multipart/form-data without a boundary")
            }
            guard let part = MultipartBody.part(named: "file", in: request.body, boundary: boundary) else {
                throw FunctionError(.invalidInput, "the multipart form has no 'file' part")
            }
            bytes = part
        default:
            throw FunctionError(
                .unsupportedMediaType,
                "Content-Type \(type) is not accepted; send image/jpeg, image/png or multipart/form-data with a 'file' part"
            )
        }
        guard !bytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty (0 bytes)") }
        if ImageCodec.sniff(bytes) == nil, type == "image/jpeg" || type == "image/png" || type == "image/jpg",
            ImageCodec.otherFormat(bytes) == nil
        {
            throw FunctionError(.unprocessable, "the body is declared \(type) but is not a valid image")
        }
        return bytes
    }
}
