import Common
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Mapping a (large) file of a version instead of streaming it: compiled artifacts.
extension ModelVersion {
    /// Parallel ranged GETs in flight when `mapVerified` fetches from a remote store.
    package static let rangedStreams = 4

    /// `file` as read-only, page-aligned bytes, verified against the manifest before it is
    /// returned (chunk digests on every core when the manifest has them, else the whole-file
    /// sha256). From a file repository or a cache hit the file is `mmap`ped in place (no copy);
    /// from a remote store it streams into one anonymous mapping with `rangedStreams` parallel
    /// ranged GETs of one chunk each, each chunk checked as it completes, and is then cached.
    package func mapVerified(_ file: String) throws -> (bytes: MappedBytes, stats: TransferStats) {
        let expected = try entry(file)
        let key = "\(model)/\(version)/\(file)"
        let origin = "\(store.uri)/\(key)"
        if let size = expected.chunkSize, let chunks = expected.chunks {
            guard size > 0, expected.size > 0, chunks.count == (expected.size + size - 1) / size else {
                throw ObjectStoreError(
                    .malformed,
                    "\(origin): the manifest lists \(chunks.count) chunk digests of \(size) bytes for a file of \(expected.size) bytes"
                )
            }
        }
        let start = Monotonic.seconds()
        var stats = TransferStats()
        let bytes: MappedBytes
        if let path = store.localPath(key) {
            bytes = try MappedBytes.map(path: path)
            try Self.verify(bytes, expected, origin: origin)
        } else if let cache, cache.openHit(sha256: expected.sha256, size: expected.size).map({ close($0) }) != nil,
            let path = cache.path(expected.sha256)
        {
            bytes = try MappedBytes.map(path: path)
            do {
                try Self.verify(bytes, expected, origin: "\(origin) (cached as \(path))")
            } catch let error as ObjectStoreError where error.code == .integrity {
                cache.remove(sha256: expected.sha256)
                throw error
            }
            stats.cacheHits = 1
        } else {
            bytes = try fetchRanged(key, expected: expected, origin: origin)
            if let writer = cache?.beginWrite(sha256: expected.sha256, size: expected.size) {
                writer.write(bytes.buffer)
                if writer.commit() { stats.cacheStores = 1 } else { stats.cacheFailures = 1 }
            }
        }
        stats.bytes = bytes.count
        stats.totalSeconds = Monotonic.seconds() - start
        return (bytes, stats)
    }

    private static func verify(_ bytes: MappedBytes, _ expected: Manifest.File, origin: String) throws {
        if let size = expected.chunkSize, let chunks = expected.chunks {
            try ChunkDigests.verify(
                bytes.buffer, size: expected.size, chunkSize: size, expected: chunks, origin: origin)
        } else {
            try ChunkDigests.verifyWhole(bytes.buffer, expected: expected, origin: origin)
        }
    }

    /// Parallel ranged GETs into one mapping; every part must arrive whole and match its digest.
    private func fetchRanged(_ key: String, expected: Manifest.File, origin: String) throws -> MappedBytes {
        let chunked = expected.chunkSize != nil && expected.chunks != nil
        let partSize = expected.chunkSize ?? ChunkDigests.defaultChunkSize
        let parts = (expected.size + partSize - 1) / partSize
        let store = self.store
        return try MappedBytes.filled(count: expected.size) { buffer in
            nonisolated(unsafe) let base = buffer.baseAddress!
            let next = Atomic<Int>(0)
            let failure = Mutex<ObjectStoreError?>(nil)
            let group = DispatchGroup()
            for _ in 0..<min(Self.rangedStreams, parts) {
                group.enter()
                OSThread.start {
                    defer { group.leave() }
                    while failure.withLock({ $0 == nil }) {
                        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard i < parts else { return }
                        let lower = i * partSize
                        let upper = min(expected.size, lower + partSize)
                        var filled = lower
                        var digest = SHA256Digest()
                        do {
                            try store.get(key, range: lower...(upper - 1)) { chunk in
                                guard filled + chunk.count <= upper else {
                                    throw ObjectStoreError(
                                        .integrity, "\(origin): the range \(lower)-\(upper - 1) returned too many bytes"
                                    )
                                }
                                (base + filled).copyMemory(from: chunk.baseAddress!, byteCount: chunk.count)
                                digest.update(chunk)
                                filled += chunk.count
                            }
                            guard filled == upper else {
                                throw ObjectStoreError(
                                    .integrity,
                                    "\(origin): size mismatch: the range \(lower)-\(upper - 1) returned \(filled - lower) bytes"
                                )
                            }
                            if chunked, digest.hex() != expected.chunks![i].lowercased() {
                                throw ObjectStoreError(.integrity, "\(origin): sha256 mismatch in chunk \(i)")
                            }
                        } catch {
                            let e =
                                error as? ObjectStoreError ?? ObjectStoreError(.io, "\(origin): \(error)")
                            failure.withLock { if $0 == nil { $0 = e } }
                        }
                    }
                }
            }
            group.wait()
            if let error = failure.withLock({ $0 }) { throw error }
            if !chunked {
                try ChunkDigests.verifyWhole(UnsafeRawBufferPointer(buffer), expected: expected, origin: origin)
            }
        }
    }
}
