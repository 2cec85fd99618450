import Common
import Functions

extension JSONValue {
    /// Parses a V2 request's JSON (at most 64 levels deep); a malformed one is the client's
    /// error, `invalidInput`, naming what is wrong and the byte offset.
    static func parseRequest(_ bytes: ArraySlice<UInt8>) throws -> JSONValue {
        do {
            return try JSONValue.parse(bytes, maxDepth: 64)
        } catch {
            throw FunctionError(.invalidInput, "the request is not valid JSON: \(error)")
        }
    }
}
