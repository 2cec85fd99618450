import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Straightforward reference implementations of the ops, for the kernel tests.
enum Naive {
    static func conv(
        _ x: [Float], c: Int, h: Int, w: Int, weights: [Float], bias: [Float], filters: Int, k: Int, stride: Int,
        pad: Int,
        groups: Int
    ) -> (values: [Float], oh: Int, ow: Int) {
        let oh = (h + 2 * pad - k) / stride + 1
        let ow = (w + 2 * pad - k) / stride + 1
        let cg = c / groups
        let fg = filters / groups
        var out = [Float](repeating: 0, count: filters * oh * ow)
        for f in 0..<filters {
            let g = f / fg
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = Double(bias[f])
                    for ci in 0..<cg {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let y = oy * stride - pad + ky
                                let xx = ox * stride - pad + kx
                                guard y >= 0, y < h, xx >= 0, xx < w else { continue }
                                sum +=
                                    Double(weights[((f * cg + ci) * k + ky) * k + kx])
                                    * Double(x[((g * cg + ci) * h + y) * w + xx])
                            }
                        }
                    }
                    out[(f * oh + oy) * ow + ox] = Float(sum)
                }
            }
        }
        return (out, oh, ow)
    }

    static func sigmoid(_ v: Float) -> Float { Float(1 / (1 + exp(-Double(v)))) }

    /// Index of every element of `shape` (row-major).
    static func indices(_ shape: [Int]) -> [[Int]] {
        var result: [[Int]] = [[]]
        for d in shape { result = result.flatMap { prefix in (0..<d).map { prefix + [$0] } } }
        return result
    }

    static func offset(_ index: [Int], _ shape: [Int]) -> Int {
        var o = 0
        for (i, d) in zip(index, shape) { o = o * d + i }
        return o
    }

    /// Element of `values` (shape `shape`) at `index` of a broadcast output of rank `index.count`.
    static func broadcastRead(_ values: [Float], _ shape: [Int], _ index: [Int]) -> Float {
        let lead = index.count - shape.count
        let own = (0..<shape.count).map { shape[$0] == 1 ? 0 : index[$0 + lead] }
        return values[offset(own, shape)]
    }

    static func transpose(_ x: [Float], _ shape: [Int], _ perm: [Int]) -> [Float] {
        let outShape = perm.map { shape[$0] }
        return indices(outShape).map { out in
            var src = [Int](repeating: 0, count: shape.count)
            for (i, p) in perm.enumerated() { src[p] = out[i] }
            return x[offset(src, shape)]
        }
    }
}
