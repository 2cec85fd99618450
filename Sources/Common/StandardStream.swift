#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing to and reading from the process's standard streams without `FileHandle`.
package enum StandardStream {
    package static func writeError(_ text: String) { write(2, Array(text.utf8)) }
    package static func writeOutput(_ bytes: [UInt8]) { write(1, bytes) }
    package static func writeOutput(_ text: String) { write(1, Array(text.utf8)) }

    /// All of standard input.
    package static func readInput() -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n > 0 {
                out += chunk[0..<n]
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return out
            }
        }
    }

    /// Appends `text` to the file at `path` if it exists (the termination log).
    package static func append(_ text: String, toExistingFile path: String) {
        let fd = open(path, O_WRONLY | O_APPEND)
        guard fd >= 0 else { return }
        write(fd, Array(text.utf8))
        close(fd)
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                #if canImport(Glibc)
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #else
                Darwin.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #endif
            }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }
}
