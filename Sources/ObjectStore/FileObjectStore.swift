import Common
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// `file:///path`: a local directory. The embedded default repository, and a mounted volume.
package struct FileObjectStore: ObjectStore {
    package let root: String
    package var uri: String { "file://" + root }
    /// Read chunk size: large enough for few syscalls, small enough to stream.
    private let chunkSize = 1 << 20

    package init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    private func path(_ key: String) throws -> String {
        try ObjectKey.validateKey(key)
        return root + "/" + key
    }

    /// `root/key` (nil for an invalid key).
    package func localPath(_ key: String) -> String? { try? path(key) }

    package func get(_ key: String, range: ClosedRange<Int>?, into consumer: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        let p = try path(key)
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw ObjectStoreError(.notFound, "\(uri)/\(key) does not exist") }
            throw ObjectStoreError(.io, "cannot open \(p): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = 0
        var remaining = Int.max
        if let range {
            offset = range.lowerBound
            remaining = range.count
            guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else {
                throw ObjectStoreError(.io, "cannot seek \(p) to \(offset)")
            }
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        while remaining > 0 {
            let want = min(chunkSize, remaining)
            let n = Glibc.read(fd, buffer.baseAddress, want)
            if n < 0 {
                if errno == EINTR { continue }
                throw ObjectStoreError(.io, "read \(p): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            try consumer(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            remaining -= n
        }
    }

    package func stat(_ key: String) throws -> ObjectInfo? {
        let p = try path(key)
        var st = Glibc.stat()
        guard statPath(p, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ObjectStoreError(.io, "stat \(p): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return ObjectInfo(size: Int(st.st_size), etag: "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
    }

    package func put(_ key: String, bytes: [UInt8], contentType: String) throws {
        let p = try path(key)
        let dir = Path.deletingLastComponent(p)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // Write to a temporary name and rename, so a reader never sees half a file.
            let tmp = dir + "/.tmp-\(UInt64.random(in: 0...UInt64.max))"
            try Data(bytes).write(to: URL(fileURLWithPath: tmp))
            guard rename(tmp, p) == 0 else {
                unlink(tmp)
                throw ObjectStoreError(.io, "rename to \(p): \(String(cString: strerror(errno)))")
            }
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.io, "cannot write \(p): \(error)")
        }
    }

    package func list(prefix: String) throws -> [String] {
        var keys: [String] = []
        var folders = [""]
        while let folder = folders.popLast() {
            let names =
                (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? root : root + "/" + folder))
                ?? []
            for name in names {
                let item = folder.isEmpty ? name : folder + "/" + name
                // Only descend into folders on the way to (or under) the prefix.
                guard item.hasPrefix(prefix) || prefix.hasPrefix(item) else { continue }
                var isDirectory = false
                guard FileManager.default.fileExists(atPath: root + "/" + item, isDirectory: &isDirectory) else {
                    continue
                }
                if isDirectory {
                    folders.append(item)
                } else if item.hasPrefix(prefix), !name.hasPrefix(".tmp-") {
                    keys.append(item)
                }
            }
        }
        return keys
    }
}

/// `stat(2)`; a free function because inside `FileObjectStore` the name `stat` is the method.
private func statPath(_ path: String, _ st: inout Glibc.stat) -> Int32 {
    stat(path, &st)
}
