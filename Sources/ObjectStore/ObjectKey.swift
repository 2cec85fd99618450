/// Validation of keys and model names, so nothing a client sends can leave the repository.
package enum ObjectKey {
    /// Checks one path segment (a model name, a version, a file name): no separators, no
    /// `.`/`..`, no percent-encoding tricks, no control characters, at most 200 bytes.
    package static func validateSegment(_ segment: String, what: String) throws {
        guard !segment.isEmpty, segment.utf8.count <= 200 else {
            throw ObjectStoreError(.invalidKey, "\(what) must be 1 to 200 characters")
        }
        guard segment != ".", segment != ".." else {
            throw ObjectStoreError(.invalidKey, "\(what) '\(segment)' is not allowed")
        }
        for byte in segment.utf8 {
            let ok =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F || byte == 0x2E
            guard ok else {
                throw ObjectStoreError(
                    .invalidKey, "\(what) '\(segment)' may contain only letters, digits, '-', '_' and '.'")
            }
        }
    }

    /// Checks a relative key made of valid segments joined by `/`.
    package static func validateKey(_ key: String) throws {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty else { throw ObjectStoreError(.invalidKey, "empty key") }
        for part in parts { try validateSegment(String(part), what: "key segment") }
    }
}

extension ObjectKey {
    /// Checks a listing prefix: empty, or valid segments joined by `/`, optionally ending in
    /// `/`; the last segment may be partial (`models/yolo`).
    package static func validatePrefix(_ prefix: String) throws {
        guard !prefix.isEmpty else { return }
        var body = prefix
        if body.hasSuffix("/") { body.removeLast() }
        try validateKey(body)
    }
}
