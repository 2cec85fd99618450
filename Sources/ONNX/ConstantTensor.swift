/// A tensor known when the model is imported: an initializer, a `Constant`, or the result of
/// folding a node whose inputs are all known. Integer tensors (shapes, indices) keep their values
/// exactly in `ints`; float tensors in `floats`. Booleans are integers 0/1.
struct ConstantTensor: Sendable {
    var shape: [Int]
    var isInteger: Bool
    var floats: [Float]
    var ints: [Int]

    init(shape: [Int], floats: [Float]) {
        self.shape = shape
        isInteger = false
        self.floats = floats
        ints = []
    }

    init(shape: [Int], ints: [Int]) {
        self.shape = shape
        isInteger = true
        floats = []
        self.ints = ints
    }

    var count: Int { isInteger ? ints.count : floats.count }

    /// Element `i` as a Double (exact for both kinds).
    func value(_ i: Int) -> Double { isInteger ? Double(ints[i]) : Double(floats[i]) }

    /// The values as integers (floats truncated, as ONNX `Cast` does).
    var intValues: [Int] {
        isInteger ? ints : floats.map { $0.isFinite && abs($0) < 9e18 ? Int($0) : 0 }
    }

    /// The values as floats.
    var floatValues: [Float] { isInteger ? ints.map { Float($0) } : floats }

    /// A tensor of the same kind with `values` (computed in Double) and `shape`.
    func with(shape: [Int], values: [Double]) -> ConstantTensor {
        isInteger
            ? ConstantTensor(shape: shape, ints: values.map { $0.isFinite && abs($0) < 9e18 ? Int($0) : 0 })
            : ConstantTensor(shape: shape, floats: values.map { Float($0) })
    }

    /// The elements at `indices` (flat), same kind.
    func gathering(_ indices: [Int], shape: [Int]) -> ConstantTensor {
        isInteger
            ? ConstantTensor(shape: shape, ints: indices.map { ints[$0] })
            : ConstantTensor(shape: shape, floats: indices.map { floats[$0] })
    }
}

/// Shape arithmetic shared by the importer and the kernels.
enum Shapes {
    /// Largest element count of any tensor we accept (2^31).
    static let maxElements = 1 << 31

    /// The product of `dims`, or nil when a dim is negative or the product exceeds `maxElements`.
    static func count(_ dims: [Int]) -> Int? {
        var n = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else { return nil }
            n = p
        }
        return n
    }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// NumPy broadcasting of two shapes, or nil when they do not broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                return nil
            }
        }
        return out
    }

    /// Strides to read a tensor of `shape` broadcast to `out` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        let own = strides(shape)
        let lead = out.count - shape.count
        return (0..<out.count).map { i in
            i < lead || shape[i - lead] == 1 ? 0 : own[i - lead]
        }
    }

    /// Normalizes a possibly negative `axis` for rank `rank`, or nil when out of range.
    static func axis(_ axis: Int, rank: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return a >= 0 && a < rank ? a : nil
    }

    /// Flat source indices of broadcasting `shape` to `out` (small tensors only: folding).
    static func broadcastIndices(_ shape: [Int], to out: [Int]) -> [Int] {
        let st = broadcastStrides(shape, to: out)
        let total = count(out) ?? 0
        var result = [Int](repeating: 0, count: total)
        var index = [Int](repeating: 0, count: out.count)
        for flat in 0..<total {
            var src = 0
            for d in 0..<out.count { src += index[d] * st[d] }
            result[flat] = src
            var d = out.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < out[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return result
    }
}
