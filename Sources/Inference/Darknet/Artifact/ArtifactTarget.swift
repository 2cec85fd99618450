import Common
import InferenceKernels

/// What a compiled artifact's weights were laid out for: the vector ISA this build's kernels are
/// compiled for and the packing parameters of `PanelGemm` and `WinogradConvolution`. An artifact
/// is used only by a build whose target is equal; any other build ignores it and loads the sources.
package struct ArtifactTarget: Sendable, Equatable, CustomStringConvertible {
    /// The instruction set the kernels were compiled for, e.g. `x86_64+avx2+fma`.
    package var isa: String
    /// Rows of a `PanelGemm.packA` panel.
    package var panelRows: Int
    /// Columns of a `PanelGemm` B panel (the kernels' register tile).
    package var panelColumns: Int
    /// Filters per group in `WinogradConvolution.packWeights`.
    package var winogradGroup: Int

    package init(isa: String, panelRows: Int, panelColumns: Int, winogradGroup: Int) {
        self.isa = isa
        self.panelRows = panelRows
        self.panelColumns = panelColumns
        self.winogradGroup = winogradGroup
    }

    /// This build's target.
    package static let current = ArtifactTarget(
        isa: currentISA, panelRows: 4, panelColumns: PanelGemm.columns, winogradGroup: 8)

    private static var currentISA: String {
        #if arch(x86_64)
        // Package.swift builds the kernels with `-target-cpu haswell`.
        return "x86_64+avx2+fma"
        #elseif arch(arm64)
        return "arm64+neon"
        #else
        return "generic"
        #endif
    }

    package var json: JSONValue {
        [
            "isa": isa.json, "panelRows": panelRows.json, "panelColumns": panelColumns.json,
            "winogradGroup": winogradGroup.json,
        ]
    }

    package init?(json: JSONValue?) {
        guard let o = json, let isa = o["isa"]?.stringValue, let rows = o["panelRows"]?.intValue,
            let columns = o["panelColumns"]?.intValue, let group = o["winogradGroup"]?.intValue
        else { return nil }
        self.init(isa: isa, panelRows: rows, panelColumns: columns, winogradGroup: group)
    }

    package var description: String {
        "\(isa), panels \(panelRows)×\(panelColumns), Winograd groups of \(winogradGroup)"
    }
}
