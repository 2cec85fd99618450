#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a window of raw rows becomes the network's input, and how the network's output
/// becomes the next value of the target column (in the data's own units, e.g. dollars).
package enum SeriesFeatures: Sendable, Equatable {
    /// The original recipe: every column min-max scaled; the output is the target column
    /// in scaled units.
    case minMax(MinMaxScaler)
    /// Scale-free features (see `RelativeFeatures`); the output is the next value's relative
    /// change from the window's last target value.
    case relative(RelativeFeatures)

    /// Columns the rows must have (nil: any count, checked by the network's input size).
    package var columns: Int? {
        switch self {
        case .minMax(let s): s.columns
        case .relative: nil
        }
    }

    /// Writes the features of `window` (raw rows, oldest first) as `steps` rows of `stride`
    /// apart into `out`: step t goes to `out[t * stride ..< t * stride + columns]`.
    package func encode(
        _ window: ArraySlice<[Double]>, targetColumn: Int, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        switch self {
        case .minMax(let s):
            for (t, row) in window.enumerated() {
                for j in 0..<row.count { out[t * stride + j] = Float(s.scale(row[j], column: j)) }
            }
        case .relative(let r):
            r.encode(window, targetColumn: targetColumn, into: out, stride: stride)
        }
    }

    /// The training target for `next` after `window`.
    package func target(window: ArraySlice<[Double]>, next: [Double], targetColumn: Int) -> Float {
        switch self {
        case .minMax(let s):
            return Float(s.scale(next[targetColumn], column: targetColumn))
        case .relative(let r):
            let last = window[window.endIndex - 1][targetColumn]
            return Float((next[targetColumn] / last - 1 - r.drift) * r.targetScale)
        }
    }

    /// The network's output for `window` in the target's units.
    package func decode(_ output: Float, window: ArraySlice<[Double]>, targetColumn: Int) -> Double {
        switch self {
        case .minMax(let s):
            return s.unscale(Double(output), column: targetColumn)
        case .relative(let r):
            let last = window[window.endIndex - 1][targetColumn]
            return last * (1 + r.drift + Double(output) / r.targetScale)
        }
    }
}

/// Features that do not depend on the price level, so a model trained on one price range
/// serves another: price columns as `(x / lastTarget - 1) * priceScale` (the window's last
/// target value, e.g. today's close, is the reference), other columns (volume) as
/// `(log1p(x) - mean over the window of log1p) * logScale`, and the target as
/// `(next / lastTarget - 1 - drift) * targetScale`: the deviation from the mean daily change
/// (`drift`), so an output of zero means "a random walk with drift". Scales and drift are
/// fitted on the training rows so the features have unit spread.
package struct RelativeFeatures: Codable, Sendable, Equatable {
    /// Columns that are prices (relative to the reference); the rest are log-scaled.
    package var priceColumns: [Int]
    package var priceScale: Double
    package var logScale: Double
    package var targetScale: Double
    /// Mean relative change of the target per step on the training rows.
    package var drift: Double

    package init(priceColumns: [Int], priceScale: Double, logScale: Double, targetScale: Double, drift: Double = 0)
        throws
    {
        guard priceScale.isFinite, priceScale > 0, logScale.isFinite, logScale > 0,
            targetScale.isFinite, targetScale > 0
        else {
            throw InferenceError(.invalidModel, "relative feature scales must be finite and positive")
        }
        guard drift.isFinite, abs(drift) < 1 else {
            throw InferenceError(.invalidModel, "relative feature drift must be finite and below 1 in magnitude")
        }
        self.drift = drift
        self.priceColumns = priceColumns
        self.priceScale = priceScale
        self.logScale = logScale
        self.targetScale = targetScale
    }

    /// Fits the scales on `rows` (oldest first): one over the spread of the target's daily
    /// relative change, one over the spread of the log columns around their window mean, and
    /// the mean daily relative change (`drift`, when `withDrift`).
    package static func fit(
        _ rows: [[Double]], window: Int, priceColumns: [Int], targetColumn: Int, withDrift: Bool = true
    ) throws -> RelativeFeatures {
        guard rows.count > window + 1 else {
            throw InferenceError(.invalidInput, "need more than \(window + 1) rows to fit features, got \(rows.count)")
        }
        var changes: [Double] = []
        for i in 1..<rows.count {
            let prev = rows[i - 1][targetColumn]
            guard prev > 0 else {
                throw InferenceError(
                    .invalidInput, "row \(i - 1): the target column must be positive for relative features")
            }
            changes.append(rows[i][targetColumn] / prev - 1)
        }
        let cols = rows[0].count
        let logColumns = (0..<cols).filter { !priceColumns.contains($0) }
        var deviations: [Double] = []
        for start in 0...(rows.count - window) {
            for j in logColumns {
                let logs = (start..<(start + window)).map { log1p(max(0, rows[$0][j])) }
                let mean = logs.reduce(0, +) / Double(window)
                deviations.append(logs[window - 1] - mean)
            }
        }
        func spread(_ xs: [Double]) -> Double {
            guard xs.count > 1 else { return 1 }
            let mean = xs.reduce(0, +) / Double(xs.count)
            let v = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
            return v > 1e-12 ? v.squareRoot() : 1
        }
        let changeSpread = spread(changes)
        let drift = withDrift ? changes.reduce(0, +) / Double(changes.count) : 0
        return try RelativeFeatures(
            priceColumns: priceColumns, priceScale: 1 / changeSpread,
            logScale: 1 / spread(deviations), targetScale: 1 / changeSpread, drift: drift)
    }

    func encode(_ window: ArraySlice<[Double]>, targetColumn: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        let last = window[window.endIndex - 1][targetColumn]
        let reference = last != 0 ? last : 1
        let cols = window[window.startIndex].count
        let steps = window.count
        for j in 0..<cols {
            if priceColumns.contains(j) {
                for (t, row) in window.enumerated() {
                    out[t * stride + j] = Float((row[j] / reference - 1) * priceScale)
                }
            } else {
                var mean = 0.0
                for row in window { mean += log1p(max(0, row[j])) }
                mean /= Double(steps)
                for (t, row) in window.enumerated() {
                    out[t * stride + j] = Float((log1p(max(0, row[j])) - mean) * logScale)
                }
            }
        }
    }
}
