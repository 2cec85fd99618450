import Inference
import InferenceKernels

/// Folds element-wise activations into the convolutions that feed them, so the conv kernels apply
/// them as they store: `Mul(x, Sigmoid(x))` (SiLU), `Mul(x, Tanh(Softplus(x)))` (Mish), `Relu`,
/// `LeakyRelu(0.1)`.
enum Fusion {
    static func fuseActivations(_ steps: inout [Step], outputs: [Int]) {
        var uses: [Int: Int] = [:]
        var producer: [Int: Int] = [:]
        for (i, step) in steps.enumerated() {
            for b in reads(step) { uses[b, default: 0] += 1 }
            for b in writes(step) { producer[b] = i }
        }
        for b in outputs { uses[b, default: 0] += 1 }
        var removed = Set<Int>()

        /// The convolution writing `buffer`, when nothing but `readers` reads it and it has no activation yet.
        func plainConv(_ buffer: Int, readers: Int) -> (Int, ConvSpec)? {
            guard uses[buffer] == readers, let ci = producer[buffer], !removed.contains(ci),
                case .pendingConv(let spec) = steps[ci], spec.activation == .linear
            else { return nil }
            return (ci, spec)
        }

        for i in steps.indices {
            switch steps[i] {
            case .binary(.mul, let a, let aShape, let b, let bShape, let output, _) where aShape == bShape:
                for (x, s) in [(a, b), (b, a)] {
                    guard uses[s] == 1, let si = producer[s], !removed.contains(si) else { continue }
                    // SiLU: Mul(x, Sigmoid(x)); Mish: Mul(x, Tanh(Softplus(x))).
                    var chain = [si]
                    let activation: Activation
                    switch steps[si] {
                    case .unary(.sigmoid, let input, _, _) where input == x:
                        activation = .swish
                    case .unary(.tanh, let t, _, _):
                        guard uses[t] == 1, let ti = producer[t], !removed.contains(ti),
                            case .unary(.softplus, let input, _, _) = steps[ti], input == x
                        else { continue }
                        chain.append(ti)
                        activation = .mish
                    default:
                        continue
                    }
                    guard let (ci, spec) = plainConv(x, readers: 2) else { continue }
                    var fused = spec
                    fused.activation = activation
                    fused.output = output
                    steps[ci] = .pendingConv(fused)
                    removed.formUnion(chain)
                    removed.insert(i)
                    producer[output] = ci
                    break
                }
            case .unary(let op, let input, let output, _):
                let activation: Activation? = op == .relu ? .relu : (op == .leakyRelu(0.1) ? .leaky : nil)
                guard let activation, let (ci, spec) = plainConv(input, readers: 1) else { continue }
                var fused = spec
                fused.activation = activation
                fused.output = output
                steps[ci] = .pendingConv(fused)
                removed.insert(i)
                producer[output] = ci
            default:
                continue
            }
        }
        steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        fuseResiduals(&steps, outputs: outputs)
    }

    /// `Add(x, conv(…))` of equal shapes, where the conv's output feeds only the Add and `x` is
    /// ready before the conv runs: the conv adds `x` after its activation (as Darknet's
    /// `[shortcut]` folded by `ResidualFusion`).
    static func fuseResiduals(_ steps: inout [Step], outputs: [Int]) {
        var uses: [Int: Int] = [:]
        var producer: [Int: Int] = [:]
        for (i, step) in steps.enumerated() {
            for b in reads(step) { uses[b, default: 0] += 1 }
            for b in writes(step) { producer[b] = i }
        }
        for b in outputs { uses[b, default: 0] += 1 }
        var removed = Set<Int>()
        for i in steps.indices {
            guard case .binary(.add, let a, let aShape, let b, let bShape, let output, _) = steps[i], aShape == bShape
            else { continue }
            for (x, y) in [(a, b), (b, a)] where x != y {
                guard uses[y] == 1, let ci = producer[y], !removed.contains(ci),
                    case .pendingConv(var spec) = steps[ci],
                    // An input or a constant (no producer) is always ready.
                    spec.residual == nil, spec.output == y, (producer[x] ?? -1) < ci
                else { continue }
                spec.residual = x
                spec.output = output
                steps[ci] = .pendingConv(spec)
                producer[output] = ci
                removed.insert(i)
                break
            }
        }
        steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Buffers a step reads.
    static func reads(_ step: Step) -> [Int] {
        switch step {
        case .pendingConv(let s): return [s.input] + (s.residual.map { [$0] } ?? [])
        case .conv(let c): return [c.input] + (c.residual.map { [$0] } ?? [])
        case .unary(_, let input, _, _): return [input]
        case .channelAffine(let input, _, _, _, _, _, _): return [input]
        case .binary(_, let a, _, let b, _, _, _): return [a, b]
        case .concat(let inputs, _, _, _): return inputs
        case .split(let input, _, _, _, _): return [input]
        case .slice(let input, _, _, _, _, _): return [input]
        case .transpose(let input, _, _, _): return [input]
        case .expand(let input, _, _, _): return [input]
        case .softmax(let input, _, _, _, _): return [input]
        case .maxPool(let p): return [p.input]
        case .resizeNearest(let input, _, _, _, _, _, _): return [input]
        case .matmul(let a, let b, _, _, _, _, _, _, _): return [a, b]
        case .lstm(let spec): return spec.reads
        }
    }

    /// Buffers a step writes.
    static func writes(_ step: Step) -> [Int] {
        switch step {
        case .pendingConv(let s): return [s.output]
        case .conv(let c): return [c.output]
        case .unary(_, _, let output, _): return [output]
        case .channelAffine(_, let output, _, _, _, _, _): return [output]
        case .binary(_, _, _, _, _, let output, _): return [output]
        case .concat(_, _, _, let output): return [output]
        case .split(_, _, _, _, let outputs): return outputs
        case .slice(_, _, _, _, let output, _): return [output]
        case .transpose(_, _, _, let output): return [output]
        case .expand(_, _, let output, _): return [output]
        case .softmax(_, _, _, _, let output): return [output]
        case .maxPool(let p): return [p.output]
        case .resizeNearest(_, _, _, _, _, _, let output): return [output]
        case .matmul(_, _, let output, _, _, _, _, _, _): return [output]
        case .lstm(let spec): return spec.writes
        }
    }
}
