import CCrypto

/// An incremental sha256 (OpenSSL's, hardware-accelerated) for verifying while streaming.
package struct SHA256Digest {
    private var context = SHA256_CTX()
    package private(set) var count = 0

    package init() {
        mscr_sha256_init(&context)
    }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        mscr_sha256_update(&context, base, bytes.count)
        count += bytes.count
    }

    /// Lowercase hex of the digest (the running digest stays usable).
    package func hex() -> String {
        var copy = context
        var out = [UInt8](repeating: 0, count: 32)
        mscr_sha256_final(&copy, &out)
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in out {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// sha256 of a whole buffer, as hex.
    package static func hex(of bytes: [UInt8]) -> String {
        var d = SHA256Digest()
        bytes.withUnsafeBytes { d.update($0) }
        return d.hex()
    }
}
