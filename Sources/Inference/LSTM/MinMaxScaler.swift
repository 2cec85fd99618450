/// Per-column min-max scaling to [0, 1] (scikit-learn's `MinMaxScaler`, the original recipe's
/// `(data - min) / (max - min)`). A constant column scales to 0 instead of dividing by zero.
package struct MinMaxScaler: Codable, Sendable, Equatable {
    package var min: [Double]
    package var max: [Double]

    package init(min: [Double], max: [Double]) throws {
        guard min.count == max.count, !min.isEmpty else {
            throw InferenceError(
                .invalidModel, "scaler min and max must have the same, non-zero length (\(min.count), \(max.count))")
        }
        guard min.allSatisfy(\.isFinite), max.allSatisfy(\.isFinite) else {
            throw InferenceError(.invalidModel, "scaler min/max contain NaN or infinity")
        }
        for j in 0..<min.count where max[j] < min[j] {
            throw InferenceError(.invalidModel, "scaler column \(j): max \(max[j]) is below min \(min[j])")
        }
        self.min = min
        self.max = max
    }

    /// Fits the per-column minimum and maximum of `rows` (all of the same width).
    package static func fit(_ rows: [[Double]]) throws -> MinMaxScaler {
        guard let first = rows.first, !first.isEmpty else {
            throw InferenceError(.invalidInput, "cannot fit a scaler on no rows")
        }
        var lo = first
        var hi = first
        for row in rows {
            guard row.count == first.count else {
                throw InferenceError(.invalidInput, "rows have \(row.count) and \(first.count) columns")
            }
            for j in 0..<row.count {
                lo[j] = Swift.min(lo[j], row[j])
                hi[j] = Swift.max(hi[j], row[j])
            }
        }
        return try MinMaxScaler(min: lo, max: hi)
    }

    /// Number of columns.
    package var columns: Int { min.count }

    /// `(x - min) / (max - min)` for column `j`.
    @inline(__always)
    package func scale(_ x: Double, column j: Int) -> Double {
        let range = max[j] - min[j]
        return range > 0 ? (x - min[j]) / range : 0
    }

    /// The inverse of `scale`.
    @inline(__always)
    package func unscale(_ s: Double, column j: Int) -> Double {
        s * (max[j] - min[j]) + min[j]
    }
}
