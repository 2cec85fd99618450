/// The function kinds this binary knows: one literal table.
package enum FunctionKinds {
    /// The kinds `mscr serve` offers; the test kind only when asked for.
    package static func all(includeTest: Bool) -> [any FunctionKind] {
        var kinds: [any FunctionKind] = [DetectKind(), StockKind()]
        if includeTest { kinds.append(TestKind()) }
        return kinds
    }
}
