import Foundation
import ObjectStore
import Testing

/// The streaming digest against the FIPS 180-2 vectors and against `sha256sum`.
@Suite struct SHA256DigestTests {
    @Test("known vectors")
    func vectors() {
        #expect(SHA256Digest.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256Digest.hex(of: Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256Digest.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("fed in uneven chunks it equals the one-shot digest and sha256sum")
    func chunked() throws {
        var state: UInt64 = 42
        let bytes = (0..<1_000_003).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        var digest = SHA256Digest()
        var offset = 0
        var size = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            bytes[offset..<end].withUnsafeBytes { digest.update($0) }
            offset = end
            size = size * 3 % 65_537 + 1
        }
        #expect(digest.count == bytes.count)
        #expect(digest.hex() == digest.hex(), "hex() does not consume the running digest")
        #expect(digest.hex() == SHA256Digest.hex(of: bytes))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.hasPrefix(digest.hex() + " "))
    }
}
