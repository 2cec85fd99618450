#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zeroed floats every page of which is present from the start, so the first request that uses
/// them does not pay for page faults: one pre-faulted anonymous mapping (`MAP_POPULATE`: the
/// kernel zeroes the pages in one call; faulting yolo-fastest's 820 arena pages one by one took
/// ~1.9 ms of its cold start), or, where that fails, the heap, touched.
package final class PrefaultedFloats: @unchecked Sendable {
    package let base: UnsafeMutablePointer<Float>
    package let count: Int
    /// True when `base` is an anonymous mapping of `count · 4` bytes (else a heap allocation).
    private let mapped: Bool

    /// At least 16 floats, 64-byte aligned.
    package init(count: Int) {
        self.count = max(count, 16)
        #if canImport(Glibc)
        let p = mmap(nil, self.count * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        if let p, p != MAP_FAILED {
            base = p.bindMemory(to: Float.self, capacity: self.count)
            mapped = true
            return
        }
        #endif
        base = UnsafeMutableRawPointer.allocate(byteCount: self.count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: self.count)
        base.initialize(repeating: 0, count: self.count)
        mapped = false
    }

    deinit {
        #if canImport(Glibc)
        if mapped {
            munmap(UnsafeMutableRawPointer(base), count * 4)
            return
        }
        #endif
        UnsafeMutableRawPointer(base).deallocate()
    }
}
