/// A layer's weights: either an owned array (parsed from a `.weights` file) or a read-only view
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// into a mapped compiled artifact (`DarknetArtifact`), kept alive by `owner` for as long as
/// the layer exists. Kernels only ever see a pointer, so both run the same code.
package struct WeightStorage: Sendable, Equatable {
    private enum Backing: @unchecked Sendable {
        case owned([Float])
        /// `count` floats at `base`, inside memory `owner` keeps mapped and never writes.
        case view(UnsafePointer<Float>, Int, owner: any AnyObject & Sendable)
    }
    private let backing: Backing

    /// Owned floats.
    package init(_ floats: [Float] = []) { backing = .owned(floats) }

    /// A view of `count` floats at `base`; `owner` must keep them mapped, unchanged, while it lives.
    package init(view base: UnsafePointer<Float>, count: Int, owner: any AnyObject & Sendable) {
        backing = .view(base, count, owner: owner)
    }

    package var count: Int {
        switch backing {
        case .owned(let a): a.count
        case .view(_, let n, _): n
        }
    }

    package var isEmpty: Bool { count == 0 }

    /// True when the floats live in a mapped artifact rather than on the heap.
    package var isView: Bool {
        if case .view = backing { return true }
        return false
    }

    /// Runs `body` with the floats.
    package func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        switch backing {
        case .owned(let a): try a.withUnsafeBufferPointer(body)
        case .view(let p, let n, _): try body(UnsafeBufferPointer(start: p, count: n))
        }
    }

    /// A copy of the floats.
    package var array: [Float] {
        switch backing {
        case .owned(let a): a
        case .view(let p, let n, _): Array(UnsafeBufferPointer(start: p, count: n))
        }
    }

    /// Equal floats (bit for bit), wherever they live.
    package static func == (a: WeightStorage, b: WeightStorage) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count * 4) == 0
            }
        }
    }
}
