import Common
import FoundationEssentials
import Functions
import MSCRFunctions

/// The request and response codecs of typed functions.
///
/// - `application/json` (or `…+json`): the body decoded into `Input` (images as base64 strings).
/// - `image/jpeg`, `image/png`, `application/octet-stream`, no type, or `multipart/form-data` with a
///   `file` part: the image goes to `Input`'s ``EncodedImage`` field, every other field comes
///   from the query string (``QueryDecoder``).
/// - Anything else: 415. The output is JSON with sorted keys.
///
/// An input that is a ``PriceSeries`` and an output that is a ``PriceForecast`` have their own
/// codecs (`TypedCodec+Series.swift`).
package enum TypedCodec {
    /// The media types taken as an image body.
    static let imageTypes: Set<String> = [
        "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "application/octet-stream",
    ]

    /// Decodes `request` into `T`; errors are ``FunctionError``s naming the field.
    package static func decode<T: Decodable>(
        _ type: T.Type, from request: FunctionRequest, body: InputBody = .jsonOrImage
    ) throws -> T {
        if let series = try series(T.self, from: request) { return series }
        let media = request.contentType?.split(separator: ";").first.map { $0.trimmed.lowercased() } ?? ""
        do {
            if body == .imageOnly {
                let decoder = QueryDecoder(query: request.query) { try imageBytes(of: request) }
                return try decoder.decodeTopLevel(T.self)
            }
            if media == "application/json" || media.hasSuffix("+json") {
                guard !request.body.isEmpty else {
                    throw FunctionError(.invalidInput, "the JSON body is empty; send a JSON object")
                }
                return try JSONDecoder().decode(T.self, from: Data(request.body))
            }
            let image: [UInt8]?
            if media == "multipart/form-data" {
                guard let boundary = MultipartBody.boundary(of: request.contentType ?? "") else {
                    throw FunctionError(.invalidInput, "multipart/form-data without a boundary")
                }
                guard let part = MultipartBody.part(named: "file", in: request.body, boundary: boundary) else {
                    throw FunctionError(.invalidInput, "the multipart form has no 'file' part")
                }
                image = try checkedImage(part, declared: nil)
            } else if imageTypes.contains(media) || (media.isEmpty && !request.body.isEmpty) {
                image = try checkedImage(request.body, declared: media)
            } else if media.isEmpty {
                image = nil
            } else {
                throw FunctionError(
                    .unsupportedMediaType,
                    "Content-Type \(media) is not accepted; send application/json, image/jpeg, image/png, "
                        + "application/octet-stream or multipart/form-data with a 'file' part")
            }
            let decoder = QueryDecoder(query: request.query, image: image)
            let value = try decoder.decodeTopLevel(T.self)
            if image != nil, !decoder.usage.imageTaken {
                throw FunctionError(
                    .unsupportedMediaType, "this function takes no image; send application/json or query parameters")
            }
            return value
        } catch let error as DecodingError {
            throw FunctionError(.invalidInput, message(error), underlying: error)
        } catch let failure as FunctionFailure {
            throw failure.functionError
        }
    }

    /// Image bytes that are JPEG or PNG: 422 for a body declared an image that is not one, 415
    /// for other bytes.
    static func checkedImage(_ bytes: [UInt8], declared: String?) throws -> [UInt8] {
        guard !bytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty (0 bytes)") }
        guard ImageCodec.sniff(bytes) == nil else { return bytes }
        if let other = ImageCodec.otherFormat(bytes) {
            throw FunctionError(.unsupportedMediaType, "\(other) images are not supported; send JPEG or PNG")
        }
        if let declared, declared.hasPrefix("image/") {
            throw FunctionError(.unprocessable, "the body is declared \(declared) but is not a valid image")
        }
        throw FunctionError(.unsupportedMediaType, "the body is not a JPEG or PNG image")
    }

    /// The answer of `POST /functions/<name>` for `output`: JSON with sorted keys, except a
    /// ``DetectedImage``, which is the detect JSON or, with `?format=jpeg`, the image with its
    /// boxes drawn.
    package static func response<T: Encodable>(_ output: T, query: [String: String]) throws -> FunctionResponse {
        if let forecast = output as? PriceForecast { return try response(forecast, query: query) }
        guard let detected = output as? DetectedImage else {
            return FunctionResponse(body: try encode(output), contentType: "application/json")
        }
        if try imageFormat(query) == "jpeg" {
            let drawn = BoxRenderer.draw(detected.result.detections, names: detected.classNames, on: detected.image)
            return FunctionResponse(body: try ImageCodec.encodeJPEG(drawn), contentType: "image/jpeg")
        }
        let json = DetectJSON.response(
            model: detected.modelName, version: detected.modelVersion, result: detected.result,
            names: detected.classNames)
        return FunctionResponse(body: Array(json.utf8), contentType: "application/json")
    }

    /// `?format=` of a function answering images: `json` (the default) or `jpeg`; else a 400.
    package static func imageFormat(_ query: [String: String]) throws -> String {
        let format = query["format"]?.lowercased() ?? "json"
        guard format == "json" || format == "jpeg" else {
            throw FunctionError(.invalidInput, "format must be 'json' or 'jpeg', not '\(format)'")
        }
        return format
    }

    /// `value` as JSON, keys sorted.
    package static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw FunctionError(.internal, "the function's output cannot be encoded as JSON: \(error)")
        }
    }

    /// A JSON decoding error as a sentence naming the field.
    static func message(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty
                ? "the body"
                : "\"" + keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") + "\""
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is required"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) must be \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) must be \(describe(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the body is not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "the body does not match the function's input"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}
