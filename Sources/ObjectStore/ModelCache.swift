import FoundationEssentials
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A local, content-addressed cache of model files for platforms with a real disk
/// (`MSCR_CACHE_DIR`; Cloud Run's disk is RAM, leave it unset there).
///
/// A file is stored as `DIR/<sha256>` only after its bytes matched the manifest's sha256:
/// `ModelVersion.stream` tees the bytes into `DIR/.tmp-…` while they stream and renames it
/// into place once verified. A hit is streamed from disk and verified again. The directory is
/// kept under `maxBytes` (`MSCR_CACHE_MAX_BYTES`, default 2 GiB) by deleting the least
/// recently used files (by mtime, which a hit refreshes). A cache that cannot be written (a
/// full disk, a read-only directory) never fails a load: that file is just not cached, and the
/// reason is logged and counted in `TransferStats.cacheFailures`.
package struct ModelCache: Sendable {
    package let directory: String
    package let maxBytes: Int
    /// Opens a new temporary file for writing; tests substitute `/dev/full` to get a real ENOSPC.
    let openForWriting: @Sendable (String) -> Int32
    static let logger = Logger(label: "mscr.objectstore.cache")
    package static let defaultMaxBytes = 2 << 30

    package init(
        directory: String, maxBytes: Int = ModelCache.defaultMaxBytes,
        openForWriting: @escaping @Sendable (String) -> Int32 = { path in
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
    ) {
        var directory = directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
        self.maxBytes = maxBytes
        self.openForWriting = openForWriting
    }

    /// The cache `MSCR_CACHE_DIR` and `MSCR_CACHE_MAX_BYTES` (bytes) configure, or nil when
    /// `MSCR_CACHE_DIR` is unset or empty. A size that is not a positive integer is an error.
    package static func fromEnvironment(_ environment: [String: String]) throws -> ModelCache? {
        var max = ModelCache.defaultMaxBytes
        if let text = environment["MSCR_CACHE_MAX_BYTES"], !text.isEmpty {
            guard let n = Int(text), n > 0 else {
                throw ObjectStoreError(.configuration, "MSCR_CACHE_MAX_BYTES=\(text) is not a positive number of bytes")
            }
            max = n
        }
        guard let directory = environment["MSCR_CACHE_DIR"], !directory.isEmpty else { return nil }
        return ModelCache(directory: directory, maxBytes: max)
    }

    /// The path of the entry for `sha256`, or nil when `sha256` is not 64 hex digits (a
    /// manifest must not be able to name other files).
    func path(_ sha256: String) -> String? {
        let hex = sha256.lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return directory + "/" + hex
    }

    /// Opens the entry for `sha256` if it exists with exactly `size` bytes, and marks it used.
    func openHit(sha256: String, size: Int) -> Int32? {
        guard let path = path(sha256) else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) == size else {
            close(fd)
            return nil
        }
        _ = futimens(fd, nil)
        return fd
    }

    /// Deletes the entry for `sha256` (it failed verification).
    func remove(sha256: String) {
        if let path = path(sha256) { unlink(path) }
    }

    /// Starts caching a file of `size` bytes, or returns nil when it cannot be cached.
    func beginWrite(sha256: String, size: Int) -> CacheWriter? {
        guard size <= maxBytes, let final = path(sha256) else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            ModelCache.logger.warning("model cache disabled for this file: cannot create the directory \(directory)")
            return CacheWriter(failed: "cannot create \(directory)")
        }
        let temp = directory + "/.tmp-\(sha256.prefix(16))-\(UInt64.random(in: 0...UInt64.max))"
        let fd = openForWriting(temp)
        guard fd >= 0 else {
            let reason = "cannot create \(temp): \(String(cString: strerror(errno)))"
            ModelCache.logger.warning("model cache disabled for this file: \(reason)")
            return CacheWriter(failed: reason)
        }
        return CacheWriter(cache: self, fd: fd, temp: temp, final: final)
    }

    /// Deletes least recently used entries until the directory holds at most `maxBytes`, and
    /// temporary files older than an hour (left by a crash).
    func trim() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var entries: [(path: String, size: Int, used: Double)] = []
        let now = Date().timeIntervalSince1970
        for name in names {
            let path = directory + "/" + name
            var st = Glibc.stat()
            guard lstatPath(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let used = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            if name.hasPrefix(".tmp-") {
                if now - used > 3600 { unlink(path) }
            } else if self.path(name) == path {
                entries.append((path, Int(st.st_size), used))
            }
        }
        var total = entries.reduce(0) { $0 + $1.size }
        for entry in entries.sorted(by: { $0.used < $1.used }) where total > maxBytes {
            if unlink(entry.path) == 0 || errno == ENOENT { total -= entry.size }
        }
    }
}

/// `lstat(2)`, as a free function (inside types `stat` is often a method).
func lstatPath(_ path: String, _ st: inout Glibc.stat) -> Int32 {
    lstat(path, &st)
}

/// One file being written into the cache. A write error disables it (logged, counted), never
/// throws: caching must not fail a load.
final class CacheWriter {
    private let cache: ModelCache?
    private var fd: Int32
    private let temp: String
    private let final: String
    /// Why this file is not cached, once something failed.
    private(set) var failure: String?
    private var done = false

    init(cache: ModelCache, fd: Int32, temp: String, final: String) {
        self.cache = cache
        self.fd = fd
        self.temp = temp
        self.final = final
    }

    init(failed reason: String) {
        cache = nil
        fd = -1
        temp = ""
        final = ""
        failure = reason
        done = true
    }

    func write(_ chunk: UnsafeRawBufferPointer) {
        guard failure == nil, var base = chunk.baseAddress else { return }
        var left = chunk.count
        while left > 0 {
            let n = Glibc.write(fd, base, left)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                fail("writing \(temp): \(n < 0 ? String(cString: strerror(errno)) : "no progress")")
                return
            }
            left -= n
            base += n
        }
    }

    /// Moves the verified file into place. Returns false (and says why in `failure`) if it could not.
    func commit() -> Bool {
        guard failure == nil, !done else { return false }
        done = true
        let closed = close(fd)
        fd = -1
        guard closed == 0 else {
            fail("closing \(temp): \(String(cString: strerror(errno)))")
            return false
        }
        guard rename(temp, final) == 0 else {
            fail("renaming \(temp) to \(final): \(String(cString: strerror(errno)))")
            return false
        }
        cache?.trim()
        return true
    }

    /// Drops the temporary file (verification failed, or the transfer did). No-op after `commit`.
    func abandon() {
        guard !done else { return }
        done = true
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(temp)
    }

    private func fail(_ reason: String) {
        failure = reason
        ModelCache.logger.warning("model cache disabled for this file: \(reason)")
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(temp)
        done = true
    }
}
