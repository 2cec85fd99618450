/// Winograd convolution for 3×3, stride-1, ungrouped layers (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2015; ncnn's `conv3x3s1_winograd`): each `m × m` output tile
/// comes from an `(m+2) × (m+2)` input tile with `(m+2)²` multiplications per (channel, filter)
/// pair instead of `9m²`. The products of one block of tiles are `(m+2)²` independent GEMMs
/// `M_p[filters × tiles] = U_p[filters × channels] · V_p[channels × tiles]`, one per transformed
/// plane `p`, through `PanelGemm`: the transforms write U and V straight into its panels, so
/// nothing is packed or zeroed per product.
///
/// Nothing is stored with the model but the weights (regrouped by `packWeights`): the filter
/// transform `U = G g Gᵀ` (`(m+2)²/9` times the weights) runs per call, a block of filters at a
/// time, into the workspace. Per call: the input is zero-padded into the workspace; for each
/// block of tile rows the input is transformed once (`V = Bᵀ d B`, eight tiles per `SIMD8`);
/// then for each block of filters, that block's filters are transformed (once per call when one
/// block holds every filter), multiplied, and transformed back (`Y = Aᵀ M A`) with the bias and
/// the activation applied before the store.
package enum WinogradConvolution {
    /// Output tile edge: F(2×2, 3×3) (16 planes) or F(4×4, 3×3) (36 planes).
    package enum Tile: Int, Sendable, CaseIterable {
        case f2 = 2
        case f4 = 4

        /// Output tile edge `m`.
        package var output: Int { rawValue }
        /// Input tile edge `m + 2`.
        package var input: Int { rawValue + 2 }
        /// Transformed planes `(m + 2)²`.
        package var planes: Int { input * input }
    }

    /// Floats of V and M (both blocks) a block of tile rows aims for.
    package static let blockFloats = 1 << 21

    /// Most filters transformed and multiplied together (the GEMMs' `m`). Measured on yolov3
    /// @416 (2 threads): 48–128 within noise of each other, 256 slower (a bigger U block falls
    /// out of cache between the transform and the GEMMs).
    package static let filterBlock = 64

    /// Blocks of filters per thread from which each block runs whole on one thread (fewer: each
    /// block's products and output transform are split over the threads). Measured on yolov3
    /// @416, 2 threads: per-block parts made the 13×13 and 26×26 layers (16 and 8 blocks) ~4 %
    /// faster and the 52×52 (4 blocks) and 104×104 (2) slower; with `PanelGemm`, 2 a thread
    /// (the 52×52 layers per block too) still made those 4 % slower (layer minimum 4.44 → 4.64 ms).
    package static let blocksPerThread = 4

    /// Most blocks of filters in flight at once, each with its own U and M; with more threads
    /// than this, the layers take the shared path instead.
    package static let slots = 2

    /// How `run` lays out its workspace for one layer shape.
    package struct Plan: Sendable, Equatable {
        package let tile: Tile
        package let channels: Int, filters: Int
        /// Tiles across and down the output.
        package let tilesX: Int, tilesY: Int
        /// Rows of the padded input (`tilesY·m + 2`).
        package let paddedRows: Int
        /// Floats of one phase row of the padded input: padded column `X` is element `X / m` of
        /// phase `X % m`, with room for a full `SIMD8` past the last tile.
        package let phaseWidth: Int
        /// Filters per block: the filters split into `⌈filters / filterBlock⌉` blocks of (almost)
        /// equal size, rounded up to whole groups of 8 (`packWeights`); the last may be smaller.
        package let filtersPerBlock: Int
        /// Tile rows transformed and multiplied together.
        package let rowsPerBlock: Int
        /// Panels of 24 tiles (`PanelGemm`'s B) in one block of tile rows.
        package let tilePanels: Int
        /// Floats between two rows of M: the block's tiles rounded up to whole panels, plus slack
        /// for the `SIMD8` loads of a row's last, partial group.
        package let blockStride: Int
        /// Blocks of filters in flight at once, each in its own U and M.
        package let slots: Int

        /// `blockFloats`: the V + M budget of one block of tile rows; `filterBlock`: the most
        /// filters in one block (tests make both small).
        package init(
            tile: Tile, channels: Int, filters: Int, outHeight: Int, outWidth: Int,
            blockFloats: Int = WinogradConvolution.blockFloats, filterBlock: Int = WinogradConvolution.filterBlock,
            slots: Int = WinogradConvolution.slots
        ) {
            let m = tile.output
            self.tile = tile
            self.channels = channels
            self.filters = filters
            tilesX = max(1, (outWidth + m - 1) / m)
            tilesY = max(1, (outHeight + m - 1) / m)
            paddedRows = tilesY * m + 2
            phaseWidth = tilesX + 10
            let blocks = max(1, (filters + max(1, filterBlock) - 1) / max(1, filterBlock))
            filtersPerBlock = ((filters + blocks - 1) / blocks + 7) / 8 * 8
            let fit = blockFloats / (tile.planes * max(1, channels + filtersPerBlock))
            rowsPerBlock = max(1, min(tilesY, fit / tilesX))
            tilePanels = (rowsPerBlock * tilesX + PanelGemm.columns - 1) / PanelGemm.columns
            blockStride = tilePanels * PanelGemm.columns + 8
            self.slots = max(1, min(slots, (filters + filtersPerBlock - 1) / filtersPerBlock))
        }

        /// Floats of one padded, phase-split input channel.
        package var paddedPlane: Int { paddedRows * tile.output * phaseWidth }

        /// Blocks of filters.
        package var filterBlocks: Int { (filters + filtersPerBlock - 1) / filtersPerBlock }

        /// Floats between two planes of U: one block of filters (`filtersPerBlock / 4` A panels
        /// `[channels × 4]`) plus 16, so that the filter transform's `(m+2)²` store streams do
        /// not all fall in one L1 set (a plane of a power-of-two size made it 2–3× slower).
        package var uPlaneStride: Int { filtersPerBlock * channels + 16 }

        /// Floats between two planes of V: `tilePanels` B panels `[channels × 24]`.
        package var vPlaneStride: Int { tilePanels * PanelGemm.columns * channels }

        /// Floats of workspace: the padded input `[channels × paddedRows × m × phaseWidth]`, then
        /// `V [planes × vPlaneStride]`, and per slot `U [planes × uPlaneStride]` and
        /// `M [planes × filtersPerBlock × blockStride]`.
        package var workspaceSize: Int {
            channels * paddedPlane + tile.planes * vPlaneStride + slots * slotFloats
        }

        /// Floats of one slot's U and M.
        package var slotFloats: Int { tile.planes * (uPlaneStride + filtersPerBlock * blockStride) }
    }

    /// Floats of workspace `run` needs.
    package static func workspaceSize(
        tile: Tile, channels: Int, filters: Int, outHeight: Int, outWidth: Int,
        blockFloats: Int = WinogradConvolution.blockFloats, filterBlock: Int = WinogradConvolution.filterBlock
    ) -> Int {
        Plan(
            tile: tile, channels: channels, filters: filters, outHeight: outHeight, outWidth: outWidth,
            blockFloats: blockFloats, filterBlock: filterBlock
        ).workspaceSize
    }

    /// `output[f, y, x] = act(bias[f] + Σ_c Σ_ky Σ_kx w[f, c, ky, kx] · input[c, y − pad + ky, x − pad + kx])`
    /// for `input [channels × height × width]`, `packed`: `weights [filters × channels × 3 × 3]` as
    /// `packWeights` regroups them,
    /// `output [filters × outHeight × outWidth]` with `outHeight = height + 2·pad − 2` (likewise
    /// the width), and `workspace` of `workspaceSize(...)` floats (the same `blockFloats` and
    /// `filterBlock`). With `residual` (`[filters × outHeight × outWidth]`), its value is added
    /// after the activation (a `[shortcut]` folded in by `ResidualFusion`).
    package static func run(
        tile: Tile,
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int, pad: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, filters: Int, activation: Activation,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        residual: UnsafePointer<Float>? = nil,
        workspace: UnsafeMutablePointer<Float>,
        blockFloats: Int = WinogradConvolution.blockFloats, filterBlock: Int = WinogradConvolution.filterBlock,
        isa: KernelISA = .current
    ) {
        guard channels > 0, filters > 0, outHeight > 0, outWidth > 0 else { return }
        // With AVX-512, swish runs over each finished tile row of a filter (hot in L1) sixteen
        // lanes at a time instead of eight in the output transform; the residual follows it.
        let rowSwish = activation == .swish && isa == .avx512 && KernelISA.detected == .avx512
        let plan = Plan(
            tile: tile, channels: channels, filters: filters, outHeight: outHeight, outWidth: outWidth,
            blockFloats: blockFloats, filterBlock: filterBlock)
        let m = tile.output
        let planes = tile.planes
        let tilesX = plan.tilesX
        let stride = plan.blockStride
        let phaseWidth = plan.phaseWidth
        let fb = plan.filtersPerBlock
        let panel = PanelGemm.columns * channels  // floats of one B panel [channels × 24]
        let padded = workspace  // [channels × paddedRows × m × phaseWidth]
        let vStride = plan.vPlaneStride
        let v = padded + channels * plan.paddedPlane  // V: [planes × vStride], a plane [tilePanels × channels × 24]
        let uStride = plan.uPlaneStride
        let u = v + planes * vStride  // U: [planes × uStride], a plane [fb / 4 × channels × 4]
        let mm = u + planes * uStride  // M: [planes × fb × stride]
        let planeFloats = plan.paddedPlane
        Parallel.forEach(channels, cost: planeFloats) { range in
            for c in range {
                padPlane(input + c * height * width, height, width, pad, padded + c * planeFloats, plan)
            }
        }
        // Plane `p` of M = plane `p` of U (`nf` filters) · plane `p` of V (`count` tiles).
        func multiply(
            _ p: Int, _ nf: Int, _ u: UnsafeMutablePointer<Float>, _ mm: UnsafeMutablePointer<Float>, _ count: Int
        ) {
            PanelGemm.multiply(
                m: nf, n: count, k: channels, a: u + p * uStride, b: v + p * vStride,
                c: mm + p * fb * stride, ldc: stride)
        }
        // Rows `js` of M (filters `f0 + j`) back to output tiles of tile rows `row0 ..< row0 + rows`.
        func untransform(_ js: Range<Int>, _ f0: Int, _ mm: UnsafeMutablePointer<Float>, _ row0: Int, _ rows: Int) {
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 40) { scratch in
                let t = scratch.baseAddress!
                for j in js {
                    let f = f0 + j
                    for r in 0..<rows {
                        let y0 = (row0 + r) * m
                        var tx = 0
                        while tx < tilesX {
                            let at = (f * outHeight + y0) * outWidth + tx * m
                            let out = OutputTiles(
                                base: output + at, residual: rowSwish ? nil : residual.map { $0 + at },
                                width: outWidth, rows: min(m, outHeight - y0), columns: min(8 * m, outWidth - tx * m),
                                bias: bias[f], activation: rowSwish ? .linear : activation)
                            let src = mm + j * stride + r * tilesX + tx
                            switch tile {
                            case .f2: outputF2(src, fb * stride, out, t)
                            case .f4: outputF4(src, fb * stride, out, t)
                            }
                            tx += 8
                        }
                        if rowSwish {
                            let at = (f * outHeight + y0) * outWidth
                            let count = min(m, outHeight - y0) * outWidth
                            BiasActivation.apply(output + at, count: count, activation: .swish, isa: .avx512)
                            if let residual {
                                Elementwise.add(output + at, residual + at, into: output + at, count: count)
                            }
                        }
                    }
                }
            }
        }
        // The groups of 8 filters holding filters `first ..< first + count` (`first` a multiple of 8)
        // into U, split over the threads.
        func transformBlock(_ first: Int, _ count: Int) {
            let g0 = first / 8
            let groups = (count + 7) / 8
            Parallel.forEach(groups, cost: 8 * planes * channels) { range in
                transformFilters(
                    weights, tile: tile, channels: channels, groups: (g0 + range.lowerBound)..<(g0 + range.upperBound),
                    dst: u + range.lowerBound * 8 * channels, planeStride: uStride)
            }
        }
        // Whole blocks per thread only when every thread gets a slot (more threads than slots
        // take the shared path, where all of them work).
        let threads = Parallel.threads
        let perBlock = threads > 1 && threads <= plan.slots && plan.filterBlocks >= Self.blocksPerThread * threads
        let hoisted = plan.filterBlocks == 1
        if hoisted { transformBlock(0, filters) }
        var row0 = 0
        while row0 < plan.tilesY {
            let rows = min(plan.rowsPerBlock, plan.tilesY - row0)
            let count = rows * tilesX
            Parallel.forEach(channels, cost: planes * count) { range in
                // 40 vectors for the transform, then `planes` vectors for a group that straddles
                // two B panels.
                withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 40 + 36) { scratch in
                    let t = scratch.baseAddress!
                    let straddle = UnsafeMutableRawPointer(t + 40).assumingMemoryBound(to: Float.self)
                    for c in range {
                        let src = padded + c * planeFloats
                        for r in 0..<rows {
                            // Input rows of tile row `row0 + r` start at padded row (row0 + r)·m.
                            let rowBase = src + (row0 + r) * m * m * phaseWidth
                            var tx = 0
                            while tx < tilesX {
                                let at = rowBase + tx
                                // Tiles `first ..< first + 8` go to lanes `first % 24 …` of row `c`
                                // of B panel `first / 24`; lanes past the row's last tile belong
                                // to later tiles, written after these.
                                let first = r * tilesX + tx
                                let lane = first % PanelGemm.columns
                                let out = v + (first / PanelGemm.columns) * panel + c * PanelGemm.columns + lane
                                if lane + 8 <= PanelGemm.columns {
                                    switch tile {
                                    case .f2: inputF2(at, phaseWidth, out, vStride, t)
                                    case .f4: inputF4(at, phaseWidth, out, vStride, t)
                                    }
                                } else {
                                    switch tile {
                                    case .f2: inputF2(at, phaseWidth, straddle, 8, t)
                                    case .f4: inputF4(at, phaseWidth, straddle, 8, t)
                                    }
                                    let split = PanelGemm.columns - lane
                                    let next =
                                        first / PanelGemm.columns + 1 < plan.tilePanels ? out + panel - lane : nil
                                    // Element by element: a call to memmove per piece of
                                    // at most 8 floats cost more than the copy.
                                    for p in 0..<planes {
                                        let values = straddle + 8 * p
                                        let head = out + p * vStride
                                        for i in 0..<split { head[i] = values[i] }
                                        if let next {
                                            let tail = next + p * vStride
                                            for i in split..<8 { tail[i - split] = values[i] }
                                        }
                                    }
                                }
                                tx += 8
                            }
                        }
                    }
                }
            }
            if perBlock {
                // Enough blocks to go round: one part per block, transformed, multiplied and
                // transformed back by one thread in its slot's U and M, so that they stay in that
                // core's cache and the block needs no barrier.
                Parallel.forEachSlot(plan.filterBlocks, slots: plan.slots) { block, slot in
                    let f0 = block * fb
                    let nf = min(fb, filters - f0)
                    let u = u + slot * plan.slotFloats
                    let mm = mm + slot * plan.slotFloats
                    transformFilters(
                        weights, tile: tile, channels: channels, groups: (f0 / 8)..<((f0 + nf + 7) / 8), dst: u,
                        planeStride: uStride)
                    for p in 0..<planes { multiply(p, nf, u, mm, count) }
                    untransform(0..<nf, f0, mm, row0, rows)
                }
            } else {
                // Few blocks: each block's products split over the planes, its output over the filters.
                var f0 = 0
                while f0 < filters {
                    let nf = min(fb, filters - f0)
                    if !hoisted { transformBlock(f0, nf) }
                    Parallel.forEach(planes, cost: nf * channels * count / 64) { range in
                        for p in range { multiply(p, nf, u, mm, count) }
                    }
                    Parallel.forEach(nf, cost: planes * count) { range in
                        untransform(range, f0, mm, row0, rows)
                    }
                    f0 += nf
                }
            }
            row0 += rows
        }
    }

    // MARK: - Vectors

    /// Eight floats at `p` (unaligned). Element-wise, which LLVM folds into one `vmovups`, and
    /// always inlined (the stdlib's generic `loadUnaligned` is not, in functions this large).
    @inline(__always)
    private static func vload(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        SIMD8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
    }

    @inline(__always)
    private static func vload(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { vload(UnsafePointer(p)) }

    /// Stores `v` at `p` (unaligned), element-wise like `vload`.
    @inline(__always)
    private static func vstore(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        p[0] = v[0]
        p[1] = v[1]
        p[2] = v[2]
        p[3] = v[3]
        p[4] = v[4]
        p[5] = v[5]
        p[6] = v[6]
        p[7] = v[7]
    }

    // MARK: - Stores

    /// Eight horizontally adjacent output tiles of one filter: `rows × columns` floats (clipped to
    /// the plane) at `base`, `width` apart; the bias and activation are applied before the store.
    private struct OutputTiles {
        let base: UnsafeMutablePointer<Float>
        /// Where the residual added after the activation starts, like `base`, or nil.
        let residual: UnsafePointer<Float>?
        let width: Int
        let rows: Int, columns: Int
        let bias: Float
        let activation: Activation
    }

    @inline(__always)
    private static func activate(_ v: SIMD8<Float>, _ act: Activation) -> SIMD8<Float> {
        switch act {
        case .linear: return v
        case .leaky: return v.replacing(with: v * SIMD8(repeating: 0.1), where: v .<= 0)
        case .relu: return v.replacing(with: SIMD8(repeating: 0), where: v .<= 0)
        case .swish: return Activation.swish(v)
        case .logistic, .mish:
            var r = v
            for l in 0..<8 { r[l] = act.apply(v[l]) }
            return r
        }
    }

    /// Stores `columns` floats of `v` (`0 ..< 8·count` of them) at `p`, plus `residual`'s when
    /// given: whole vectors, then the rest.
    @inline(__always)
    private static func storeClipped(
        _ v: UnsafePointer<SIMD8<Float>>, _ count: Int, _ columns: Int, _ p: UnsafeMutablePointer<Float>,
        _ residual: UnsafePointer<Float>?
    ) {
        let whole = min(count, columns / 8)
        if let residual {
            for i in 0..<whole { vstore(v[i] + vload(residual + 8 * i), p + 8 * i) }
            for i in (whole * 8)..<min(columns, 8 * count) { p[i] = v[i / 8][i % 8] + residual[i] }
            return
        }
        for i in 0..<whole { vstore(v[i], p + 8 * i) }
        for i in (whole * 8)..<min(columns, 8 * count) { p[i] = v[i / 8][i % 8] }
    }

    // MARK: - F(2×2, 3×3)

    /// Element `(y, x)` of eight adjacent input tiles whose first lies at `at` (phase-split
    /// padded plane with `m`-column tiles, `pw` floats a phase row).
    @inline(__always)
    private static func load(_ at: UnsafePointer<Float>, _ pw: Int, _ m: Int, _ y: Int, _ x: Int) -> SIMD8<Float> {
        vload(at + (y * m + x % m) * pw + x / m)
    }

    /// `V = Bᵀ d B` for eight 4×4 tiles, `Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]`;
    /// plane `i·4 + j` at `dst + (i·4 + j)·planeStride`.
    @inline(__always)
    private static func inputF2(
        _ at: UnsafePointer<Float>, _ pw: Int, _ dst: UnsafeMutablePointer<Float>, _ planeStride: Int,
        _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        for y in 0..<4 {
            let d0 = load(at, pw, 2, y, 0)
            let d1 = load(at, pw, 2, y, 1)
            let d2 = load(at, pw, 2, y, 2)
            let d3 = load(at, pw, 2, y, 3)
            t[y * 4] = d0 - d2
            t[y * 4 + 1] = d1 + d2
            t[y * 4 + 2] = d2 - d1
            t[y * 4 + 3] = d1 - d3
        }
        for j in 0..<4 {
            let d0 = t[j]
            let d1 = t[4 + j]
            let d2 = t[8 + j]
            let d3 = t[12 + j]
            vstore(d0 - d2, dst + j * planeStride)
            vstore(d1 + d2, dst + (4 + j) * planeStride)
            vstore(d2 - d1, dst + (8 + j) * planeStride)
            vstore(d1 - d3, dst + (12 + j) * planeStride)
        }
    }

    /// `Y = Aᵀ M A` for eight tiles, `Aᵀ = [1 1 1 0; 0 1 −1 −1]`, then bias, activation, store.
    @inline(__always)
    private static func outputF2(
        _ src: UnsafePointer<Float>, _ planeStride: Int, _ out: OutputTiles, _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        let bias = SIMD8<Float>(repeating: out.bias)
        for j in 0..<4 {
            let m0 = vload(src + j * planeStride)
            let m1 = vload(src + (4 + j) * planeStride)
            let m2 = vload(src + (8 + j) * planeStride)
            let m3 = vload(src + (12 + j) * planeStride)
            t[j] = m0 + m1 + m2
            t[4 + j] = m1 - m2 - m3
        }
        let row = t + 8
        for r in 0..<out.rows {
            let s0 = t[r * 4]
            let s1 = t[r * 4 + 1]
            let s2 = t[r * 4 + 2]
            let s3 = t[r * 4 + 3]
            let y0 = activate(s0 + s1 + s2 + bias, out.activation)
            let y1 = activate(s1 - s2 - s3 + bias, out.activation)
            // Lane l holds tile l: columns 2l, 2l + 1.
            let a = SIMD8(y0[0], y1[0], y0[1], y1[1], y0[4], y1[4], y0[5], y1[5])
            let b = SIMD8(y0[2], y1[2], y0[3], y1[3], y0[6], y1[6], y0[7], y1[7])
            row[0] = SIMD8(lowHalf: a.lowHalf, highHalf: b.lowHalf)
            row[1] = SIMD8(lowHalf: a.highHalf, highHalf: b.highHalf)
            storeClipped(row, 2, out.columns, out.base + r * out.width, out.residual.map { $0 + r * out.width })
        }
    }

    // MARK: - F(4×4, 3×3)

    /// `V = Bᵀ d B` for eight 6×6 tiles with
    /// `Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]`;
    /// plane `i·6 + j` at `dst + (i·6 + j)·planeStride`.
    @inline(__always)
    private static func inputF4(
        _ at: UnsafePointer<Float>, _ pw: Int, _ dst: UnsafeMutablePointer<Float>, _ planeStride: Int,
        _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        for y in 0..<6 {
            let (e0, e1, e2, e3, e4, e5) = transformInput6(
                load(at, pw, 4, y, 0), load(at, pw, 4, y, 1), load(at, pw, 4, y, 2),
                load(at, pw, 4, y, 3), load(at, pw, 4, y, 4), load(at, pw, 4, y, 5))
            t[y * 6] = e0
            t[y * 6 + 1] = e1
            t[y * 6 + 2] = e2
            t[y * 6 + 3] = e3
            t[y * 6 + 4] = e4
            t[y * 6 + 5] = e5
        }
        for j in 0..<6 {
            let (e0, e1, e2, e3, e4, e5) = transformInput6(t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j])
            vstore(e0, dst + j * planeStride)
            vstore(e1, dst + (6 + j) * planeStride)
            vstore(e2, dst + (12 + j) * planeStride)
            vstore(e3, dst + (18 + j) * planeStride)
            vstore(e4, dst + (24 + j) * planeStride)
            vstore(e5, dst + (30 + j) * planeStride)
        }
    }

    /// One 6-point `Bᵀ d` of F(4, 3).
    @inline(__always)
    private static func transformInput6(
        _ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>, _ d4: SIMD8<Float>,
        _ d5: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let four = SIMD8<Float>(repeating: 4)
        let five = SIMD8<Float>(repeating: 5)
        let two = SIMD8<Float>(repeating: 2)
        // Products with the constants as fused multiply-adds (14 vector operations, not 22).
        let a = d4 - d2
        let b = d3 - d1
        let e0 = d4.addingProduct(four, d0).addingProduct(-five, d2)
        let e1 = (d4 + d3).addingProduct(-four, d1 + d2)
        let e2 = (d4 - d3).addingProduct(four, d1 - d2)
        let e3 = a.addingProduct(two, b)
        let e4 = a.addingProduct(-two, b)
        let e5 = d5.addingProduct(four, d1).addingProduct(-five, d3)
        return (e0, e1, e2, e3, e4, e5)
    }

    /// One 6-point `Aᵀ m` of F(4, 3), `Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]`.
    @inline(__always)
    private static func transformOutput6(
        _ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>, _ m3: SIMD8<Float>, _ m4: SIMD8<Float>,
        _ m5: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let p12 = m1 + m2
        let q12 = m1 - m2
        let p34 = m3 + m4
        let q34 = m3 - m4
        let y0 = m0 + p12 + p34
        let y1 = q12.addingProduct(SIMD8(repeating: 2), q34)
        let y2 = p12.addingProduct(SIMD8(repeating: 4), p34)
        let y3 = q12.addingProduct(SIMD8(repeating: 8), q34) + m5
        return (y0, y1, y2, y3)
    }

    /// `Y = Aᵀ M A` for eight tiles, then bias, activation, store.
    @inline(__always)
    private static func outputF4(
        _ src: UnsafePointer<Float>, _ planeStride: Int, _ out: OutputTiles, _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        let bias = SIMD8<Float>(repeating: out.bias)
        for j in 0..<6 {
            let (y0, y1, y2, y3) = transformOutput6(
                vload(src + j * planeStride), vload(src + (6 + j) * planeStride),
                vload(src + (12 + j) * planeStride), vload(src + (18 + j) * planeStride),
                vload(src + (24 + j) * planeStride), vload(src + (30 + j) * planeStride))
            t[j] = y0
            t[6 + j] = y1
            t[12 + j] = y2
            t[18 + j] = y3
        }
        let row = t + 24
        for r in 0..<out.rows {
            let s = r * 6
            var (y0, y1, y2, y3) = transformOutput6(t[s], t[s + 1], t[s + 2], t[s + 3], t[s + 4], t[s + 5])
            y0 = activate(y0 + bias, out.activation)
            y1 = activate(y1 + bias, out.activation)
            y2 = activate(y2 + bias, out.activation)
            y3 = activate(y3 + bias, out.activation)
            // Lane l holds tile l: columns 4l ..< 4l + 4. A 4×8 transpose.
            let a0 = SIMD8(y0[0], y1[0], y0[1], y1[1], y0[4], y1[4], y0[5], y1[5])
            let a1 = SIMD8(y0[2], y1[2], y0[3], y1[3], y0[6], y1[6], y0[7], y1[7])
            let a2 = SIMD8(y2[0], y3[0], y2[1], y3[1], y2[4], y3[4], y2[5], y3[5])
            let a3 = SIMD8(y2[2], y3[2], y2[3], y3[3], y2[6], y3[6], y2[7], y3[7])
            let b0 = SIMD8(a0[0], a0[1], a2[0], a2[1], a0[4], a0[5], a2[4], a2[5])
            let b1 = SIMD8(a0[2], a0[3], a2[2], a2[3], a0[6], a0[7], a2[6], a2[7])
            let b2 = SIMD8(a1[0], a1[1], a3[0], a3[1], a1[4], a1[5], a3[4], a3[5])
            let b3 = SIMD8(a1[2], a1[3], a3[2], a3[3], a1[6], a1[7], a3[6], a3[7])
            row[0] = SIMD8(lowHalf: b0.lowHalf, highHalf: b1.lowHalf)
            row[1] = SIMD8(lowHalf: b2.lowHalf, highHalf: b3.lowHalf)
            row[2] = SIMD8(lowHalf: b0.highHalf, highHalf: b1.highHalf)
            row[3] = SIMD8(lowHalf: b2.highHalf, highHalf: b3.highHalf)
            storeClipped(row, 4, out.columns, out.base + r * out.width, out.residual.map { $0 + r * out.width })
        }
    }

    // MARK: - Padding

    /// Copies one `height × width` plane into a zero, phase-split padded plane (see `Plan`):
    /// input `(y, x)` goes to padded `(y + pad, X = x + pad)`, stored at phase row
    /// `(y + pad)·m + X % m`, element `X / m`. Rows and columns no tile reads are left out.
    private static func padPlane(
        _ src: UnsafePointer<Float>, _ height: Int, _ width: Int, _ pad: Int,
        _ dst: UnsafeMutablePointer<Float>, _ plan: Plan
    ) {
        let m = plan.tile.output
        let pw = plan.phaseWidth
        dst.initialize(repeating: 0, count: plan.paddedPlane)
        let rows = min(height, plan.paddedRows - pad)
        let cols = min(width, plan.tilesX * m + 2 - pad)
        guard rows > 0, cols > 0 else { return }
        // Elements `vector0 ..< vector1` of every phase come from whole 16-float loads, split
        // into the phases by lane (16/m elements of each per load); the rest one by one.
        let step = 16 / m
        let vector0 = (pad + m - 1) / m
        var vector1 = vector0
        if m == 2 || m == 4 {
            while m * vector1 - pad + 16 <= cols { vector1 += step }
        }
        for y in 0..<rows {
            let s = src + y * width
            let d = dst + (y + pad) * m * pw
            var t = vector0
            while t < vector1 {
                let v = UnsafeRawPointer(s + m * t - pad).loadUnaligned(as: SIMD16<Float>.self)
                if m == 4 {
                    let even = v.evenHalf
                    let odd = v.oddHalf
                    UnsafeMutableRawPointer(d + t).storeBytes(of: even.evenHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + pw + t).storeBytes(of: odd.evenHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + 2 * pw + t).storeBytes(of: even.oddHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + 3 * pw + t).storeBytes(of: odd.oddHalf, as: SIMD4<Float>.self)
                } else {
                    SIMD8Memory.store(v.evenHalf, d + t)
                    SIMD8Memory.store(v.oddHalf, d + pw + t)
                }
                t += step
            }
            for q in 0..<m {
                // Padded column X = m·t + q reads input column X − pad.
                var t = q >= pad ? 0 : (pad - q + m - 1) / m
                let row = d + q * pw
                while m * t + q - pad < cols {
                    if t == vector0 && vector1 > vector0 {
                        t = vector1
                        continue
                    }
                    row[t] = s[m * t + q - pad]
                    t += 1
                }
            }
        }
    }
}
