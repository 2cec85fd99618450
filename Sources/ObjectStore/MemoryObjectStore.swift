import Synchronization

/// An in-memory store: the twin of the real backends for unit tests.
package final class MemoryObjectStore: ObjectStore {
    private let objects = Mutex<[String: [UInt8]]>([:])
    package let uri: String
    /// Chunk size used by `get`, so tests exercise multi-chunk streaming.
    package let chunkSize: Int

    package init(name: String = "test", chunkSize: Int = 4096) {
        self.uri = "memory://" + name
        self.chunkSize = chunkSize
    }

    package func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        try ObjectKey.validateKey(key)
        guard let bytes = objects.withLock({ $0[key] }) else {
            throw ObjectStoreError(.notFound, "\(uri)/\(key) does not exist")
        }
        let lower = range.map { min($0.lowerBound, bytes.count) } ?? 0
        let upper = range.map { min($0.upperBound + 1, bytes.count) } ?? bytes.count
        var start = lower
        try bytes.withUnsafeBytes { raw in
            while start < upper {
                let end = min(start + chunkSize, upper)
                try consumer(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
            }
        }
    }

    package func stat(_ key: String) throws -> ObjectInfo? {
        try ObjectKey.validateKey(key)
        return objects.withLock { $0[key] }.map { ObjectInfo(size: $0.count) }
    }

    package func put(_ key: String, bytes: [UInt8], contentType: String) throws {
        try ObjectKey.validateKey(key)
        objects.withLock { $0[key] = bytes }
    }

    package func list(prefix: String) throws -> [String] {
        try ObjectKey.validatePrefix(prefix)
        return objects.withLock { $0.keys.filter { $0.hasPrefix(prefix) } }
    }

    /// Removes an object (tests use it to simulate a missing file).
    package func remove(_ key: String) {
        objects.withLock { _ = $0.removeValue(forKey: key) }
    }
}
