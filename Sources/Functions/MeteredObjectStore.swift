import Dispatch
import ObjectStore
import Synchronization

/// Wraps a store during one model load and measures what the load cost: bytes, time waiting
/// for bytes (fetch) and time inside the consumer (parse while streaming).
final class MeteredObjectStore: ObjectStore {
    struct Totals: Sendable {
        var bytes = 0
        var fetchSeconds = 0.0
        var consumerSeconds = 0.0
    }

    let inner: any ObjectStore
    private let totals = Mutex(Totals())
    var uri: String { inner.uri }

    init(_ inner: any ObjectStore) {
        self.inner = inner
    }

    var snapshot: Totals { totals.withLock { $0 } }

    func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        var consumed: UInt64 = 0
        var bytes = 0
        defer {
            let total = DispatchTime.now().uptimeNanoseconds - start
            totals.withLock {
                $0.bytes += bytes
                $0.consumerSeconds += Double(consumed) / 1e9
                $0.fetchSeconds += Double(total &- consumed) / 1e9
            }
        }
        try inner.get(key, range: range) { chunk in
            bytes += chunk.count
            let t0 = DispatchTime.now().uptimeNanoseconds
            defer { consumed += DispatchTime.now().uptimeNanoseconds - t0 }
            try consumer(chunk)
        }
    }

    func stat(_ key: String) throws -> ObjectInfo? { try inner.stat(key) }
    func put(_ key: String, bytes: [UInt8], contentType: String) throws {
        try inner.put(key, bytes: bytes, contentType: contentType)
    }
    func list(prefix: String) throws -> [String] { try inner.list(prefix: prefix) }
    /// The inner store's file, so a file repository's artifact is still mapped in place (the
    /// mapping costs no fetch time: it is not metered).
    func localPath(_ key: String) -> String? { inner.localPath(key) }
}
