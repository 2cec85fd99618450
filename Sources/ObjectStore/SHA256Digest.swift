import Crypto

/// An incremental sha256 (BoringSSL's, hardware-accelerated) for verifying while streaming.
package struct SHA256Digest {
    private var hasher = SHA256()
    package private(set) var count = 0

    package init() {}

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += bytes.count
    }

    /// Lowercase hex of the digest.
    package func hex() -> String {
        hasher.finalize().map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// sha256 of a whole buffer, as hex.
    package static func hex(of bytes: [UInt8]) -> String {
        var d = SHA256Digest()
        bytes.withUnsafeBytes { d.update($0) }
        return d.hex()
    }
}
