/// How `WinogradConvolution.run` lays out its workspace: tiles, padded planes, blocks of tile
/// rows and of filters, and the strides of U, V and M.
extension WinogradConvolution {
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
        /// for the loads of a row's last, partial group (16 lanes with AVX-512).
        package let blockStride: Int
        /// Blocks of filters in flight at once, each in its own U and M.
        package let slots: Int

        /// `blockFloats`: the V + M budget of one block of tile rows; `filterBlock`: the most
        /// filters in one block (tests make both small), nil for `WinogradConvolution.filterBlock`
        /// or, on a map of at most `smallMapTiles` tiles, one block of up to `smallMapFilters`.
        package init(
            tile: Tile, channels: Int, filters: Int, outHeight: Int, outWidth: Int,
            blockFloats: Int = WinogradConvolution.blockFloats, filterBlock: Int? = nil,
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
            let small = tilesX * tilesY <= WinogradConvolution.smallMapTiles
            let limit = max(
                1,
                filterBlock
                    ?? (small && filters <= WinogradConvolution.smallMapFilters
                        ? filters : WinogradConvolution.filterBlock))
            let blocks = (filters + limit - 1) / limit
            filtersPerBlock = ((filters + blocks - 1) / blocks + 7) / 8 * 8
            let fit = blockFloats / (tile.planes * max(1, channels + filtersPerBlock))
            rowsPerBlock = max(1, min(tilesY, fit / tilesX))
            tilePanels = (rowsPerBlock * tilesX + PanelGemm.columns - 1) / PanelGemm.columns
            // An odd multiple of 8: a power-of-two stride (64 at 20×20) put the output
            // transform's 36 plane loads in one L1 set.
            let slack = tilePanels * PanelGemm.columns + 16
            blockStride = slack % 16 == 0 ? slack + 8 : slack
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
}
