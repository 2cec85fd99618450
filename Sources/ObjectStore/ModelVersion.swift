import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// One committed version of a model: reads its files, verified against the manifest.
package struct ModelVersion: Sendable {
    package let store: any ObjectStore
    package let model: String
    package let version: Int
    package let manifest: Manifest
    /// Verified local copies of files (nil: no cache).
    package let cache: ModelCache?

    package init(store: any ObjectStore, model: String, version: Int, manifest: Manifest, cache: ModelCache? = nil) {
        self.store = store
        self.model = model
        self.version = version
        self.manifest = manifest
        self.cache = cache
    }

    /// The manifest entry of `file`, or a clear error.
    package func entry(_ file: String) throws -> Manifest.File {
        guard let entry = manifest.files[file] else {
            throw ObjectStoreError(
                .notFound,
                "model '\(model)' version \(version) has no file '\(file)' (it has: \(manifest.files.keys.sorted().joined(separator: ", ")))"
            )
        }
        return entry
    }

    /// Streams `file` to `consumer`, checking size and sha256 as the bytes pass. Throws
    /// `integrity` (naming file, expected and actual) on any mismatch: the caller must treat
    /// everything the consumer built as garbage then.
    ///
    /// With a cache, a hit streams from local disk (verified just the same; a bad copy is
    /// deleted and reported as an integrity error), and a miss tees the bytes into the cache,
    /// where they appear only once verified.
    @discardableResult
    package func stream(_ file: String, into consumer: (UnsafeRawBufferPointer) throws -> Void) throws -> TransferStats
    {
        let expected = try entry(file)
        let key = "\(model)/\(version)/\(file)"
        var verifier = Verifier(expected: expected, origin: "\(store.uri)/\(key)")
        var stats = TransferStats()
        let start = Monotonic.seconds()
        func consume(_ chunk: UnsafeRawBufferPointer) throws {
            let t0 = Monotonic.seconds()
            try consumer(chunk)
            stats.consumerSeconds += Monotonic.seconds() - t0
        }

        if let cache, let fd = cache.openHit(sha256: expected.sha256, size: expected.size) {
            let cachedPath = cache.path(expected.sha256) ?? cache.directory
            verifier.origin = "\(store.uri)/\(key) (cached as \(cachedPath))"
            defer { close(fd) }
            do {
                try Self.readAll(fd, path: cachedPath) { chunk in
                    try verifier.update(chunk)
                    try consume(chunk)
                }
                try verifier.finish()
            } catch let error as ObjectStoreError where error.code == .integrity {
                cache.remove(sha256: expected.sha256)
                throw ObjectStoreError(
                    .integrity, error.message + "; the cached copy was deleted, the next load fetches it again")
            }
            stats.cacheHits = 1
        } else {
            let writer = cache?.beginWrite(sha256: expected.sha256, size: expected.size)
            defer { writer?.abandon() }
            try store.get(key, range: nil) { chunk in
                try verifier.update(chunk)
                writer?.write(chunk)
                try consume(chunk)
            }
            try verifier.finish()
            if let writer {
                if writer.commit() { stats.cacheStores = 1 } else { stats.cacheFailures = 1 }
            }
        }
        stats.totalSeconds = Monotonic.seconds() - start
        stats.bytes = verifier.digest.count
        return stats
    }

    /// Reads the whole of `file`, verified.
    package func read(_ file: String) throws -> (bytes: [UInt8], stats: TransferStats) {
        var bytes: [UInt8] = []
        if let size = manifest.files[file]?.size { bytes.reserveCapacity(size) }
        let stats = try stream(file) { bytes.append(contentsOf: $0) }
        return (bytes, stats)
    }

    /// Checks size and sha256 of bytes as they pass.
    private struct Verifier {
        let expected: Manifest.File
        var origin: String
        var digest = SHA256Digest()

        init(expected: Manifest.File, origin: String) {
            self.expected = expected
            self.origin = origin
        }

        mutating func update(_ chunk: UnsafeRawBufferPointer) throws {
            if digest.count + chunk.count > expected.size {
                throw ObjectStoreError(
                    .integrity,
                    "\(origin): size mismatch: expected \(expected.size) bytes, got more (at least \(digest.count + chunk.count))"
                )
            }
            digest.update(chunk)
        }

        func finish() throws {
            guard digest.count == expected.size else {
                throw ObjectStoreError(
                    .integrity, "\(origin): size mismatch: expected \(expected.size) bytes, got \(digest.count)")
            }
            let actual = digest.hex()
            guard actual == expected.sha256.lowercased() else {
                throw ObjectStoreError(
                    .integrity, "\(origin): sha256 mismatch: expected \(expected.sha256), got \(actual)")
            }
        }
    }

    /// Streams a local file in 1 MiB chunks.
    private static func readAll(_ fd: Int32, path: String, into body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ObjectStoreError(.io, "reading \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
