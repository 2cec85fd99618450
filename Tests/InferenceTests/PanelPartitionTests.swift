import Testing

@testable import InferenceKernels

/// How `PanelConvolution` cuts a layer's output columns into parts (`partition`): every column
/// in exactly one part, parts in order and near-equal, none bigger than a slot of the workspace
/// holds, and with several threads a multiple of them, so that no thread is left alone with the
/// last part.
@Suite("PanelConvolution parts")
struct PanelPartitionTests {
    /// yolov8n's 1×1 layers (384→256 @20×20 came in parts of 7, 7 and 3 panels before), one
    /// strip and less, a prime number of panels, a reduction so long that a part holds one panel,
    /// big maps, and layers too small for a part per thread.
    static let shapes: [(k: Int, pixels: Int, filters: Int)] = [
        (384, 400, 256), (512, 400, 256), (192, 1600, 128), (128, 1600, 128), (256, 400, 256), (64, 400, 64),
        (32, 9, 16), (80, 24, 80), (70, 143, 13), (3000, 500, 64), (192, 6400, 64), (48, 25600, 32),
        (27, 102_400, 32), (80, 400, 80), (128, 400, 128),
    ]

    @Test(arguments: shapes)
    func partsCoverEveryColumnOnceAndBalance(_ shape: (k: Int, pixels: Int, filters: Int)) {
        let columns = PanelGemm.columns
        let panels = (shape.pixels + columns - 1) / columns
        let maxPanels = PanelConvolution.panelsPerPart(k: shape.k, pixels: shape.pixels)
        for threads in [1, 2, 3, 4] {
            for pairs in [false, true] {
                let (parts, unit, units) = PanelConvolution.partition(
                    k: shape.k, pixels: shape.pixels, filters: shape.filters, threads: threads, pairs: pairs)
                let what = "k \(shape.k), \(shape.pixels) px, \(threads) threads, pairs \(pairs)"
                #expect(unit == (pairs && panels > 1 ? 2 : 1), "\(what)")
                #expect(units == (panels + unit - 1) / unit, "\(what)")
                #expect(parts >= 1 && parts <= units, "\(what)")
                // The ranges `run` computes: contiguous from 0 to `pixels`.
                var next = 0
                var sizes: [Int] = []
                for part in 0..<parts {
                    let first = units * part / parts * unit * columns
                    let end = min(shape.pixels, units * (part + 1) / parts * unit * columns)
                    #expect(first == next, "\(what): part \(part) starts at \(first), not \(next)")
                    #expect(end > first, "\(what): part \(part) is empty")
                    #expect(first % columns == 0, "\(what): part \(part) does not start on a panel")
                    next = end
                    sizes.append(units * (part + 1) / parts - units * part / parts)
                }
                #expect(next == shape.pixels, "\(what)")
                #expect(sizes.max()! - sizes.min()! <= 1, "\(what): groups per part \(sizes)")
                #expect(sizes.max()! * unit <= max(maxPanels, unit), "\(what): groups per part \(sizes)")
                // The biggest part fits a workspace slot (and so `workspaceSize`).
                #expect(
                    sizes.max()! * unit <= PanelConvolution.slotPanels(k: shape.k, pixels: shape.pixels),
                    "\(what): a part bigger than a slot")
                // One thread, or too little work for two parts: as few parts as the slot allows.
                let maxUnits = max(1, maxPanels / unit)
                let fewest = (units + maxUnits - 1) / maxUnits
                let work = shape.k * shape.pixels * shape.filters
                if threads == 1 || work < 2 * PanelConvolution.minPartWork {
                    #expect(parts == fewest, "\(what): \(parts) parts")
                } else {
                    #expect(parts >= fewest, "\(what): \(parts) parts")
                    #expect(parts == units || parts % threads == 0, "\(what): \(parts) parts")
                }
                // Enough work: every thread gets `partsPerThread` parts (as far as there are groups).
                if threads > 1, work >= threads * PanelConvolution.partsPerThread * PanelConvolution.minPartWork {
                    #expect(parts >= min(units, threads * PanelConvolution.partsPerThread), "\(what): \(parts) parts")
                }
            }
        }
    }
}
