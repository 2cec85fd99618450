import Inference
import InferenceKernels

/// Kernels that move data: concat, split, slice, transpose, expand, nearest resize.
enum Layout {
    static func concat(
        _ inputs: [UnsafePointer<Float>], _ shapes: [[Int]], axis: Int, _ dst: UnsafeMutablePointer<Float>
    ) {
        guard let first = shapes.first else { return }
        let outer = first[..<axis].reduce(1, *)
        let inners = shapes.map { $0[axis...].reduce(1, *) }
        let row = inners.reduce(0, +)
        Parallel.forEach(outer, cost: row) { r in
            for o in r {
                var offset = o * row
                for (i, src) in inputs.enumerated() {
                    (dst + offset).update(from: src + o * inners[i], count: inners[i])
                    offset += inners[i]
                }
            }
        }
    }

    static func split(
        _ src: UnsafeMutablePointer<Float>, _ shape: [Int], axis: Int, sizes: [Int],
        _ outputs: [UnsafeMutablePointer<Float>]
    ) {
        let outer = shape[..<axis].reduce(1, *)
        let unit = shape[(axis + 1)...].reduce(1, *)
        let row = shape[axis] * unit
        for o in 0..<outer {
            var offset = o * row
            for (i, dst) in outputs.enumerated() {
                let n = sizes[i] * unit
                (dst + o * n).update(from: src + offset, count: n)
                offset += n
            }
        }
    }

    static func slice(
        _ src: UnsafeMutablePointer<Float>, _ shape: [Int], starts: [Int], steps: [Int],
        _ dst: UnsafeMutablePointer<Float>,
        _ outShape: [Int]
    ) {
        let total = Shapes.count(outShape) ?? 0
        guard total > 0 else { return }
        let rank = shape.count
        let strides = Shapes.strides(shape)
        let inner = outShape[rank - 1]
        let rows = total / inner
        let lastStep = steps[rank - 1] * strides[rank - 1]
        Parallel.forEach(rows, cost: inner) { r in
            for row in r {
                var rest = row
                var offset = starts[rank - 1] * strides[rank - 1]
                var d = rank - 2
                while d >= 0 {
                    let i = rest % outShape[d]
                    rest /= outShape[d]
                    offset += (starts[d] + i * steps[d]) * strides[d]
                    d -= 1
                }
                let out = dst + row * inner
                for j in 0..<inner { out[j] = src[offset + j * lastStep] }
            }
        }
    }

    static func transpose(
        _ src: UnsafeMutablePointer<Float>, _ shape: [Int], perm: [Int], _ dst: UnsafeMutablePointer<Float>
    ) {
        let outShape = perm.map { shape[$0] }
        let inStrides = Shapes.strides(shape)
        let srcStrides = perm.map { inStrides[$0] }
        gather(src, srcStrides, dst, outShape)
    }

    /// Broadcasts `src` of `shape` to `outShape`.
    static func expand(
        _ src: UnsafeMutablePointer<Float>, _ shape: [Int], _ dst: UnsafeMutablePointer<Float>, _ outShape: [Int]
    ) {
        gather(src, Shapes.broadcastStrides(shape, to: outShape), dst, outShape)
    }

    /// `dst[index] = src[Σ index[d] · srcStrides[d]]` over every index of `outShape`.
    private static func gather(
        _ src: UnsafeMutablePointer<Float>, _ srcStrides: [Int], _ dst: UnsafeMutablePointer<Float>, _ outShape: [Int]
    ) {
        let total = Shapes.count(outShape) ?? 0
        guard total > 0 else { return }
        let rank = outShape.count
        guard rank > 0 else {
            dst[0] = src[0]
            return
        }
        let inner = outShape[rank - 1]
        let rows = total / inner
        let step = srcStrides[rank - 1]
        Parallel.forEach(rows, cost: inner) { r in
            for row in r {
                var rest = row
                var offset = 0
                var d = rank - 2
                while d >= 0 {
                    let i = rest % outShape[d]
                    rest /= outShape[d]
                    offset += i * srcStrides[d]
                    d -= 1
                }
                let out = dst + row * inner
                for j in 0..<inner { out[j] = src[offset + j * step] }
            }
        }
    }

    static func resizeNearest(
        _ src: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int, rows: [Int], columns: [Int],
        _ dst: UnsafeMutablePointer<Float>
    ) {
        let oh = rows.count
        let ow = columns.count
        Parallel.forEach(planes, cost: oh * ow) { r in
            for p in r {
                let plane = src + p * height * width
                let out = dst + p * oh * ow
                for y in 0..<oh {
                    let line = plane + rows[y] * width
                    let o = out + y * ow
                    for x in 0..<ow { o[x] = line[columns[x]] }
                }
            }
        }
    }
}

/// Max pooling with ONNX's padding (cells outside the input are ignored).
enum Pool {
    static func maxPool(_ p: MaxPoolSpec, _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        if p.kernelH == p.kernelW, p.strideH == p.strideW, p.padTop == p.padLeft, p.padTop * 2 < p.kernelH,
            p.outHeight == (p.height + 2 * p.padTop - p.kernelH) / p.strideH + 1,
            p.outWidth == (p.width + 2 * p.padLeft - p.kernelW) / p.strideW + 1
        {
            // Symmetric padding: Darknet's kernel (its `padding` is the total, split evenly),
            // separable for windows over 2, each part with its own row workspace.
            Parallel.forEach(p.planes, cost: p.outHeight * p.outWidth * p.kernelH * 2) { r in
                var rows = [Float](
                    repeating: 0, count: Pooling.maxPoolWorkspace(height: p.height, outWidth: p.outWidth))
                rows.withUnsafeMutableBufferPointer { w in
                    Pooling.maxPool(
                        input: src + r.lowerBound * p.height * p.width, channels: r.count, height: p.height,
                        width: p.width,
                        size: p.kernelH, stride: p.strideH, padding: 2 * p.padTop,
                        output: dst + r.lowerBound * p.outHeight * p.outWidth, outHeight: p.outHeight,
                        outWidth: p.outWidth,
                        workspace: w.baseAddress)
                }
            }
            return
        }
        Parallel.forEach(p.planes, cost: p.outHeight * p.outWidth * p.kernelH * p.kernelW) { r in
            for c in r {
                let plane = src + c * p.height * p.width
                let out = dst + c * p.outHeight * p.outWidth
                for oy in 0..<p.outHeight {
                    let y0 = oy * p.strideH - p.padTop
                    let ya = max(0, y0)
                    let yb = min(p.height, y0 + p.kernelH)
                    for ox in 0..<p.outWidth {
                        let x0 = ox * p.strideW - p.padLeft
                        let xa = max(0, x0)
                        let xb = min(p.width, x0 + p.kernelW)
                        var m = -Float.infinity
                        for y in ya..<max(ya, yb) {
                            for x in xa..<max(xa, xb) { m = max(m, plane[y * p.width + x]) }
                        }
                        out[oy * p.outWidth + ox] = m
                    }
                }
            }
        }
    }
}
