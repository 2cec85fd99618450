#if canImport(Glibc)
import Glibc
#endif

/// Read-only, page-aligned bytes of one file: a `mmap` of a local file (shared with every other
/// process through the page cache), or an anonymous mapping filled from a remote store and then
/// made read-only. Unmapped when the last reference goes; whatever views into it (the layers of a
/// network) must keep it alive.
package final class MappedBytes: @unchecked Sendable {
    package let base: UnsafeRawPointer
    package let count: Int
    /// True for a mapping of a local file (shared through the page cache), false for bytes
    /// filled from a remote store.
    package let isFileBacked: Bool

    private init(base: UnsafeRawPointer, count: Int, isFileBacked: Bool) {
        self.base = base
        self.count = count
        self.isFileBacked = isFileBacked
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), max(count, 1))
    }

    /// The bytes of `path`, mapped read-only and pre-faulted (`MAP_POPULATE`): no copy.
    package static func map(path: String) throws -> MappedBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw ObjectStoreError(.notFound, "\(path) does not exist") }
            throw ObjectStoreError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else {
            throw ObjectStoreError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        let size = Int(st.st_size)
        guard size > 0 else { throw ObjectStoreError(.integrity, "\(path) is empty") }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw ObjectStoreError(.io, "cannot map \(path): \(String(cString: strerror(errno)))")
        }
        return MappedBytes(base: UnsafeRawPointer(p), count: size, isFileBacked: true)
    }

    /// A zeroed, writable, page-aligned region of `count` bytes for `fill`, then made read-only.
    package static func filled(
        count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws -> MappedBytes {
        guard count > 0 else { throw ObjectStoreError(.integrity, "cannot map an empty file") }
        let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw ObjectStoreError(.io, "cannot allocate \(count) bytes: \(String(cString: strerror(errno)))")
        }
        let bytes = MappedBytes(base: UnsafeRawPointer(p), count: count, isFileBacked: false)
        try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        mprotect(p, count, PROT_READ)
        return bytes
    }

    package var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
