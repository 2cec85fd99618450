import InferenceAVX512Kernels

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
/// time, into the workspace. Per call, for each block of tile rows: one parallel job pads each
/// input channel into the workspace (first block only) and transforms it (`V = Bᵀ d B`, eight
/// tiles per `SIMD8`, sixteen per vector with AVX-512 for F(4×4): `WinogradTiles512`), and
/// transforms the first block of filters (once per call when one block holds every filter);
/// then for each block of filters, one job multiplies (split over the planes) and one
/// transforms back (`Y = Aᵀ M A`, split over the filters) with the bias and the activation
/// applied before the store, and transforms the next block's filters.
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

    /// Most filters a layer on a map of at most `smallMapTiles` tiles may have to run them in one
    /// block: transformed in the input transform's job, so that the layer takes three parallel
    /// jobs instead of seven. yolov8n's 80→80 @20×20 at 2 threads: 0.104 ms against 0.121 in two
    /// blocks of 40 (1 thread level); 128 filters in one block were 5 % slower at 1 thread and
    /// level at 2, so they keep two.
    package static let smallMapFilters = 96

    /// Most tiles of a map that runs up to `smallMapFilters` filters in one block.
    package static let smallMapTiles = 100

    /// Blocks of filters per thread from which each block runs whole on one thread (fewer: each
    /// block's products and output transform are split over the threads). Measured on yolov3
    /// @416, 2 threads: per-block parts made the 13×13 and 26×26 layers (16 and 8 blocks) ~4 %
    /// faster and the 52×52 (4 blocks) and 104×104 (2) slower; with `PanelGemm`, 2 a thread
    /// (the 52×52 layers per block too) still made those 4 % slower (layer minimum 4.44 → 4.64 ms).
    package static let blocksPerThread = 4

    /// Most blocks of filters in flight at once, each with its own U and M; with more threads
    /// than this, the layers take the shared path instead.
    package static let slots = 2

    /// Floats of workspace `run` needs.
    package static func workspaceSize(
        tile: Tile, channels: Int, filters: Int, outHeight: Int, outWidth: Int,
        blockFloats: Int = WinogradConvolution.blockFloats, filterBlock: Int? = nil
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
        blockFloats: Int = WinogradConvolution.blockFloats, filterBlock: Int? = nil,
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
        // With AVX-512, F(4×4)'s input transform runs sixteen tiles a vector (`WinogradTiles512`).
        let wide = tile == .f4 && isa == .avx512 && KernelISA.detected == .avx512
        // With AVX-512 the output transform too, for the activations it applies in registers
        // (at 20×20, five tiles a row, too: 64→64 0.140 against 0.149 ms on eight lanes).
        let wideActivation: WinogradActivation512? =
            switch rowSwish ? .linear : activation {
            case .linear where wide: .linear
            case .leaky where wide: .leaky
            case .relu where wide: .relu
            default: nil
            }
        // Tile rows `row0 ..< row0 + rows` of channel `c` into V; `t`: 40 vectors for the
        // transform, then `planes` vectors for a group that straddles two B panels.
        func transformInput(_ c: Int, _ row0: Int, _ rows: Int, _ t: UnsafeMutablePointer<SIMD8<Float>>) {
            let straddle = UnsafeMutableRawPointer(t + 40).assumingMemoryBound(to: Float.self)
            let src = padded + c * planeFloats
            if wide {
                WinogradTiles512.inputF4(
                    src + row0 * m * m * phaseWidth, phaseWidth, tilesX, rows * tilesX, v + c * PanelGemm.columns,
                    panel, vStride, plan.tilePanels)
                return
            }
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
                        let next = first / PanelGemm.columns + 1 < plan.tilePanels ? out + panel - lane : nil
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
        // Plane `p` of M = plane `p` of U (`nf` filters) · plane `p` of V (`count` tiles).
        func multiply(
            _ p: Int, _ nf: Int, _ u: UnsafeMutablePointer<Float>, _ mm: UnsafeMutablePointer<Float>, _ count: Int
        ) {
            // `PanelGemm` takes a last panel of 1–4 columns one column at a time: with 3 or 4
            // an 8-column block costs less (measured at 40×40, 100 tiles: 14 % of the layer in
            // the columns; at 20×20, 25 tiles, one column stays cheaper than the block). The
            // columns past `count` are lanes of the last panel that nothing reads back, and
            // `blockStride` has room for them.
            let rest = count % PanelGemm.columns
            let n = rest >= 3 && rest <= 4 ? count - rest + 8 : count
            PanelGemm.multiply(
                m: nf, n: n, k: channels, a: u + p * uStride, b: v + p * vStride,
                c: mm + p * fb * stride, ldc: stride)
        }
        // Rows `js` of M (filters `f0 + j`) back to output tiles of tile rows `row0 ..< row0 + rows`.
        func untransform(_ js: Range<Int>, _ f0: Int, _ mm: UnsafeMutablePointer<Float>, _ row0: Int, _ rows: Int) {
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 40) { scratch in
                let t = scratch.baseAddress!
                for j in js {
                    let f = f0 + j
                    if let wideActivation {
                        let at = (f * outHeight + row0 * m) * outWidth
                        WinogradTiles512.outputF4(
                            mm + j * stride, fb * stride, rows * tilesX, tilesX, output + at, outWidth,
                            outHeight - row0 * m, rowSwish ? nil : residual.map { $0 + at }, bias[f], wideActivation)
                        if rowSwish {
                            let count = min(rows * m, outHeight - row0 * m) * outWidth
                            BiasActivation.apply(output + at, count: count, activation: .swish, isa: .avx512)
                            if let residual {
                                Elementwise.add(output + at, residual + at, into: output + at, count: count)
                            }
                        }
                        continue
                    }
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
        // Whole blocks per thread only when every thread gets a slot (more threads than slots
        // take the shared path, where all of them work).
        let threads = Parallel.threads
        let perBlock = threads > 1 && threads <= plan.slots && plan.filterBlocks >= Self.blocksPerThread * threads
        let hoisted = plan.filterBlocks == 1
        // Filter groups (of 8) in block `b`, as a range of groups.
        func groupsOf(_ block: Int) -> Range<Int> {
            let f0 = block * fb
            return (f0 / 8)..<((min(f0 + fb, filters) + 7) / 8)
        }
        // One parallel job for `work` over `0 ..< count` (`cost` floats an item) and the filter
        // transform of `groups` (into U from its start): item `i` is group `⌊i·extra / items⌋`
        // where that steps, so that the groups spread evenly over the parts, and work item
        // `i − ⌊i·extra / items⌋` otherwise; `work` gets the runs of work items between groups.
        func job(_ count: Int, cost: Int, groups: Range<Int>, _ work: (Range<Int>) -> Void) {
            let extra = groups.count
            let items = count + extra
            Parallel.forEach(items, cost: cost) { range in
                var run = 0..<0
                for i in range {
                    let before = i * extra / items
                    if (i + 1) * extra / items > before {
                        if !run.isEmpty { work(run) }
                        run = 0..<0
                        transformFilters(
                            weights, tile: tile, channels: channels,
                            groups: (groups.lowerBound + before)..<(groups.lowerBound + before + 1),
                            dst: u + before * 8 * channels, planeStride: uStride)
                    } else {
                        let w = i - before
                        run = run.isEmpty ? w..<(w + 1) : run.lowerBound..<(w + 1)
                    }
                }
                if !run.isEmpty { work(run) }
            }
        }
        var row0 = 0
        while row0 < plan.tilesY {
            let rows = min(plan.rowsPerBlock, plan.tilesY - row0)
            let count = rows * tilesX
            // One job for what the products need: the first block of tile rows pads each
            // channel just before transforming it (the whole plane, hot in cache, for the later
            // blocks too), and on the shared path the same job transforms the first block of
            // filters (with one block, only for the first block of tile rows); each block's
            // output transform then transforms the next block's filters. A small map so takes
            // two barriers before its products rather than four, and a block one less.
            let first = row0 == 0
            let inputGroups = perBlock || (hoisted && !first) ? 0..<0 : groupsOf(0)
            job(channels, cost: planes * count + (first ? planeFloats : 0), groups: inputGroups) { range in
                withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 40 + 36) { scratch in
                    let t = scratch.baseAddress!
                    for c in range {
                        if first {
                            padPlane(input + c * height * width, height, width, pad, padded + c * planeFloats, plan)
                        }
                        transformInput(c, row0, rows, t)
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
                for block in 0..<plan.filterBlocks {
                    let f0 = block * fb
                    let nf = min(fb, filters - f0)
                    // Costs in floats touched: a plane's U, V and M; a filter's M and output.
                    Parallel.forEach(planes, cost: (nf + count) * channels + nf * count) { range in
                        for p in range { multiply(p, nf, u, mm, count) }
                    }
                    let next = block + 1 < plan.filterBlocks ? groupsOf(block + 1) : 0..<0
                    job(nf, cost: planes * count + m * m * count, groups: next) { range in
                        untransform(range, f0, mm, row0, rows)
                    }
                }
            }
            row0 += rows
        }
    }
}
