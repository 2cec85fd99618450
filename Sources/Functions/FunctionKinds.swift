/// The function kinds this binary knows: one literal table.
package enum FunctionKinds {
    /// The kinds `mscr serve` offers; the test kind only when asked for. `onForecast` hears
    /// every stock forecast (the retraining observer).
    package static func all(
        includeTest: Bool, onForecast: (@Sendable (StockForecastEvent) -> Void)? = nil
    ) -> [any FunctionKind] {
        var kinds: [any FunctionKind] = [
            DetectKind(kind: "detect"), DetectKind(), StockKind(onForecast: onForecast), ONNXTensorKind(),
        ]
        if includeTest { kinds.append(TestKind()) }
        return kinds
    }
}
