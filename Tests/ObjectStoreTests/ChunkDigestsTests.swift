import Foundation
import Testing

@testable import ObjectStore

/// Per-chunk digests (compiled artifacts) against one-shot digests of the same slices and against
/// `sha256sum`, and `mapVerified` on a file repository against the manifest.
@Suite struct ChunkDigestsTests {
    static func bytes(_ n: Int) -> [UInt8] {
        var state: UInt64 = 7
        return (0..<n).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test func digestsAreThoseOfEachSlice() throws {
        let data = Self.bytes(3 * 4096 + 123)
        let digests = data.withUnsafeBytes { ChunkDigests.compute($0, chunkSize: 4096) }
        #expect(digests.count == 4)
        for (i, d) in digests.enumerated() {
            #expect(d == SHA256Digest.hex(of: Array(data[(i * 4096)..<min(data.count, (i + 1) * 4096)])))
        }
        // An independent implementation: coreutils' sha256sum of the last slice.
        let path = NSTemporaryDirectory() + "chunk-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(data[(3 * 4096)...]).write(to: URL(fileURLWithPath: path))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.hasPrefix(digests[3]))
    }

    @Test func verifyNamesTheBadChunkAndChecksTheSize() throws {
        var data = Self.bytes(5 * 1000)
        let digests = data.withUnsafeBytes { ChunkDigests.compute($0, chunkSize: 1000) }
        try data.withUnsafeBytes {
            try ChunkDigests.verify($0, size: data.count, chunkSize: 1000, expected: digests, origin: "t")
        }
        data[3500] ^= 1
        #expect {
            try data.withUnsafeBytes {
                try ChunkDigests.verify($0, size: data.count, chunkSize: 1000, expected: digests, origin: "t")
            }
        } throws: { "\($0)".contains("chunk 3") && ($0 as? ObjectStoreError)?.code == .integrity }
        #expect(throws: ObjectStoreError.self) {
            try data.withUnsafeBytes {
                try ChunkDigests.verify(
                    UnsafeRawBufferPointer(rebasing: $0[0..<4000]), size: data.count, chunkSize: 1000,
                    expected: digests, origin: "t")
            }
        }
    }

    @Test func mapVerifiedMapsAFileRepositoryInPlace() throws {
        let root = NSTemporaryDirectory() + "map-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let repo = ModelRepository(store: FileObjectStore(root: root))
        let data = Self.bytes(100_000)
        try repo.publish(
            model: "m", version: 1, format: "test", files: ["big": data, "small": [1, 2, 3]], chunked: ["big"])
        let version = try repo.resolve(model: "m", version: "1")
        #expect(version.manifest.files["small"]?.chunks == nil)
        let (mapped, _) = try version.mapVerified("big")
        #expect(Array(mapped.buffer) == data && Int(bitPattern: mapped.base) % 4096 == 0)
        let (plain, _) = try version.mapVerified("small")  // whole-file sha256, no chunk table
        #expect(Array(plain.buffer) == [1, 2, 3])
    }
}
