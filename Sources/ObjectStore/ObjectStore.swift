/// Metadata about one stored object.
package struct ObjectInfo: Sendable, Equatable {
    /// Size in bytes.
    package var size: Int
    /// An opaque version tag (ETag or mtime), if the backend has one.
    package var etag: String?

    package init(size: Int, etag: String? = nil) {
        self.size = size
        self.etag = etag
    }
}

/// A place that holds bytes under keys: a local directory, an S3 or GCS bucket prefix, an
/// https prefix, or memory.
///
/// The API is blocking on purpose: callers run it on a thread pool (never on an event loop),
/// and a blocking API lets a streaming `get` hand each chunk to a synchronous consumer (the
/// weights reader) as it arrives, without a second copy of the object.
///
/// Keys are relative to the store's root and use `/` as a separator.
package protocol ObjectStore: Sendable {
    /// The store's root URI, for messages and logs (never carries credentials).
    var uri: String { get }

    /// Streams the object (or `range` of it, inclusive byte offsets) to `consumer`, chunk by
    /// chunk, as the bytes arrive. A consumer error stops the transfer and is rethrown.
    func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Size and tag of the object, or nil when it does not exist.
    func stat(_ key: String) throws -> ObjectInfo?

    /// Stores `bytes` under `key`, replacing any object there.
    func put(_ key: String, bytes: [UInt8], contentType: String) throws

    /// Every key that starts with `prefix`, in no particular order.
    func list(prefix: String) throws -> [String]

    /// The local file that holds `key`, when the store is a directory on this machine (so a
    /// large file can be memory-mapped in place instead of copied); nil for remote stores.
    /// Wrappers (a metering store) forward it.
    func localPath(_ key: String) -> String?
}

extension ObjectStore {
    /// Remote and in-memory stores have no local file.
    package func localPath(_ key: String) -> String? { nil }

    /// Reads the whole object into memory.
    package func read(_ key: String) throws -> [UInt8] {
        var out: [UInt8] = []
        try get(key, range: nil) { chunk in out.append(contentsOf: chunk) }
        return out
    }

    /// Streams the whole object.
    package func get(_ key: String, into consumer: (UnsafeRawBufferPointer) throws -> Void) throws {
        try get(key, range: nil, into: consumer)
    }
}
