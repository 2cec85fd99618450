/// Percent-encoding as S3 (SigV4), GCS and plain HTTP servers expect it.
package enum URIEncoding {
    /// Encodes every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - _ . ~`) as `%XX`
    /// (uppercase hex, as SigV4's canonical form requires); `/` stays when `keepSlash`.
    package static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF")
        for byte in text.utf8 {
            let unreserved =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x7E
            if unreserved || (keepSlash && byte == 0x2F) {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }

    /// `a=1&b=2`, sorted by name and then value, every name and value encoded: the canonical
    /// query of SigV4 (libcurl 7.88 signs the query exactly as it is sent).
    package static func query(_ items: [(String, String)]) -> String {
        items.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { encode($0.0, keepSlash: false) + "=" + encode($0.1, keepSlash: false) }
            .joined(separator: "&")
    }
}

/// A `scheme://bucket/prefix` URI split into its parts.
struct BucketURI {
    var bucket: String
    /// Empty, or segments each followed by `/` (`models/prod/`).
    var prefix: String

    init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// Parses `uri`, which must start with `scheme://`; validates bucket and prefix segments.
    init(_ uri: String, scheme: String) throws {
        let rest = uri.dropFirst(scheme.count + 3)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let bucket = parts.first, !bucket.isEmpty else {
            throw ObjectStoreError(.invalidURI, "'\(uri)' has no bucket (expected \(scheme)://bucket/prefix)")
        }
        try ObjectKey.validateSegment(bucket, what: "bucket name")
        for segment in parts.dropFirst() { try ObjectKey.validateSegment(segment, what: "prefix segment") }
        self.bucket = bucket
        self.prefix = parts.dropFirst().map { $0 + "/" }.joined()
    }

    /// `scheme://bucket/prefix` without a trailing slash.
    func display(scheme: String) -> String {
        "\(scheme)://\(bucket)" + (prefix.isEmpty ? "" : "/" + prefix.dropLast())
    }
}
