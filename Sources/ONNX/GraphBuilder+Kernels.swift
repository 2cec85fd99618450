import Inference
import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GraphBuilder {
    /// Conv: 2-D, square kernel, equal strides, equal pads, no dilation, batch 1, constant weights.
    mutating func addConv(_ node: Onnx_NodeProto, _ x: ImportValue, _ w: ConstantTensor?, _ b: ConstantTensor?) throws {
        let label = node.label
        let (input, shape) = try runtime(x, label)
        guard let w, !w.isInteger, w.shape.count == 4 else {
            throw ONNXError(
                .unsupported, "\(label): weights must be a constant float [filters, channels/groups, k, k] tensor")
        }
        guard shape.count == 4, shape[0] == 1 else {
            throw ONNXError(.unsupported, "\(label): input \(shape) must be [1, C, H, W]")
        }
        let groups = node.int("group", 1)
        let (filters, k) = (w.shape[0], w.shape[2])
        let kernel = node.ints("kernel_shape") ?? [k, w.shape[3]]
        let strides = node.ints("strides") ?? [1, 1]
        let dilations = node.ints("dilations") ?? [1, 1]
        let pads = node.ints("pads") ?? [0, 0, 0, 0]
        let autoPad = node.string("auto_pad", "NOTSET")
        guard autoPad == "NOTSET" || autoPad == "VALID" && pads.allSatisfy({ $0 == 0 }) else {
            throw ONNXError(.unsupported, "\(label): auto_pad \(autoPad) is not supported; export with explicit pads")
        }
        guard kernel == [k, k], w.shape[3] == k, strides.count == 2, strides[0] == strides[1], strides[0] > 0,
            dilations == [1, 1], pads.count == 4, Set(pads).count == 1, pads[0] >= 0, pads[0] < k
        else {
            throw ONNXError(
                .unsupported,
                "\(label): kernel \(kernel), strides \(strides), pads \(pads), dilations \(dilations) are not supported (square kernels, equal strides, equal pads smaller than the kernel, no dilation)"
            )
        }
        guard groups > 0, shape[1] % groups == 0, filters % groups == 0, w.shape[1] == shape[1] / groups,
            shape[2] + 2 * pads[0] >= k, shape[3] + 2 * pads[0] >= k
        else {
            throw ONNXError(
                .invalidModel, "\(label): weights \(w.shape) with group \(groups) do not fit input \(shape)")
        }
        var bias = [Float](repeating: 0, count: filters)
        if let b {
            guard !b.isInteger, b.count == filters else {
                throw ONNXError(.invalidModel, "\(label): bias must hold \(filters) floats")
            }
            bias = b.floats
        }
        var spec = ConvSpec(
            input: input, output: 0, channels: shape[1], height: shape[2], width: shape[3], filters: filters, kernel: k,
            stride: strides[0], pad: pads[0], groups: groups, weights: w.floats, bias: bias, activation: .linear,
            residual: nil, name: node.name)
        let outShape = [1, filters, spec.outHeight, spec.outWidth]
        spec.output = try newBuffer(outShape, "\(label) output")
        values[node.output[0]] = .runtime(buffer: spec.output, shape: outShape)
        append(.pendingConv(spec), writes: [spec.output])
    }

    /// BatchNormalization: folded into the convolution before it when that conv feeds only it,
    /// else a per-channel scale and shift.
    mutating func addBatchNorm(_ node: Onnx_NodeProto, _ x: ImportValue, _ params: [ConstantTensor?]) throws {
        let label = node.label
        let (input, shape) = try runtime(x, label)
        guard shape.count >= 2 else { throw ONNXError(.invalidModel, "\(label): input \(shape) has no channel axis") }
        let channels = shape[1]
        let p = try params.map { t -> [Float] in
            guard let t, !t.isInteger, t.count == channels else {
                throw ONNXError(
                    .unsupported,
                    "\(label): scale, bias, mean and variance must be constant float [\(channels)] tensors")
            }
            return t.floats
        }
        let epsilon = node.float("epsilon", 1e-5)
        let scale = (0..<channels).map { c in Float(Double(p[0][c]) / (Double(p[3][c]) + Double(epsilon)).squareRoot())
        }
        let shift = (0..<channels).map { c in p[1][c] - p[2][c] * scale[c] }
        if readers[node.input[0]] == 1, let si = producer[input], case .pendingConv(var spec) = steps[si],
            spec.output == input
        {
            let perFilter = spec.weights.count / spec.filters
            for f in 0..<spec.filters {
                for i in (f * perFilter)..<((f + 1) * perFilter) { spec.weights[i] *= scale[f] }
                spec.bias[f] = spec.bias[f] * scale[f] + shift[f]
            }
            steps[si] = .pendingConv(spec)
            values[node.output[0]] = .runtime(buffer: input, shape: shape)
            return
        }
        let out = try newBuffer(shape, "\(label) output")
        values[node.output[0]] = .runtime(buffer: out, shape: shape)
        append(
            .channelAffine(
                input: input, output: out, outer: shape[0], channels: channels, inner: shape[2...].reduce(1, *),
                scale: scale, shift: shift),
            writes: [out])
    }

    mutating func addMaxPool(_ node: Onnx_NodeProto, _ x: ImportValue) throws {
        let label = node.label
        let (input, shape) = try runtime(x, label)
        guard shape.count == 4, let kernel = node.ints("kernel_shape"), kernel.count == 2,
            kernel.allSatisfy({ $0 > 0 && $0 <= 1 << 20 })
        else {
            throw ONNXError(.unsupported, "\(label): only 2-D max pooling of [N, C, H, W] is supported")
        }
        let strides = node.ints("strides") ?? [1, 1]
        var pads = node.ints("pads") ?? [0, 0, 0, 0]
        guard strides.count == 2, strides.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }), pads.count == 4,
            pads.allSatisfy({ $0 >= 0 && $0 < 1 << 10 }),
            (node.ints("dilations") ?? [1, 1]) == [1, 1], node.output.count == 1 || node.output[1].isEmpty
        else {
            throw ONNXError(.unsupported, "\(label): strides, pads, dilations or indices output not supported")
        }
        let autoPad = node.string("auto_pad", "NOTSET")
        func size(_ axis: Int) -> Int {
            let n = shape[2 + axis]
            let s = strides[axis]
            let k = kernel[axis]
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                let out = (n + s - 1) / s
                let total = max(0, (out - 1) * s + k - n)
                let small = total / 2
                pads[axis] = autoPad == "SAME_UPPER" ? small : total - small
                pads[axis + 2] = total - pads[axis]
                return out
            case "VALID":
                pads[axis] = 0
                pads[axis + 2] = 0
                return (n - k) / s + 1
            default:
                let span = n + pads[axis] + pads[axis + 2] - k
                guard node.int("ceil_mode", 0) != 0 else { return span / s + 1 }
                var out = (span + s - 1) / s + 1
                if (out - 1) * s >= n + pads[axis] { out -= 1 }
                return out
            }
        }
        let oh = size(0)
        let ow = size(1)
        guard oh > 0, ow > 0 else { throw ONNXError(.invalidModel, "\(label): the window does not fit input \(shape)") }
        let outShape = [shape[0], shape[1], oh, ow]
        let out = try newBuffer(outShape, "\(label) output")
        values[node.output[0]] = .runtime(buffer: out, shape: outShape)
        let spec = MaxPoolSpec(
            input: input, output: out, planes: shape[0] * shape[1], height: shape[2], width: shape[3],
            kernelH: kernel[0],
            kernelW: kernel[1], strideH: strides[0], strideW: strides[1], padTop: pads[0], padLeft: pads[1],
            outHeight: oh, outWidth: ow)
        append(.maxPool(spec), writes: [out])
    }

    /// Resize, nearest mode on the two spatial axes of [N, C, H, W]: source rows and columns are
    /// computed here, with the file's coordinate transform and rounding.
    mutating func addResize(
        _ node: Onnx_NodeProto, _ x: ImportValue, _ scales: ConstantTensor?, _ sizes: ConstantTensor?
    ) throws {
        let label = node.label
        let (input, shape) = try runtime(x, label)
        let mode = node.string("mode", "nearest")
        guard mode == "nearest", shape.count == 4 else {
            throw ONNXError(
                .unsupported, "\(label): only mode 'nearest' on [N, C, H, W] is supported (got '\(mode)', \(shape))")
        }
        var outShape: [Int]
        var factors: [Float]
        if let sizes, sizes.count == 4 {
            outShape = sizes.intValues
            factors = (0..<4).map { Float(outShape[$0]) / Float(shape[$0]) }
        } else if let scales, scales.count == 4 {
            factors = scales.floatValues
            guard factors.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 64 }) else {
                throw ONNXError(.unsupported, "\(label): scales \(factors) are not supported (positive, at most 64)")
            }
            outShape = (0..<4).map { Int((Float(shape[$0]) * factors[$0]).rounded(.down)) }
        } else {
            throw ONNXError(.unsupported, "\(label): needs constant scales or sizes for the 4 axes")
        }
        guard outShape[0] == shape[0], outShape[1] == shape[1], outShape[2] > 0, outShape[3] > 0,
            outShape[2] <= shape[2] * 64, outShape[3] <= shape[3] * 64
        else {
            throw ONNXError(
                .unsupported,
                "\(label): resizing \(shape) to \(outShape) is not supported (spatial axes only, at most 64×)")
        }
        let transform = node.string("coordinate_transformation_mode", "half_pixel")
        let rounding = node.string("nearest_mode", "round_prefer_floor")
        let known = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest"]
        guard known.contains(transform),
            ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(rounding)
        else {
            throw ONNXError(
                .unsupported,
                "\(label): coordinate_transformation_mode '\(transform)' / nearest_mode '\(rounding)' not supported")
        }
        func sources(_ axis: Int) -> [Int] {
            let n = shape[axis]
            let m = outShape[axis]
            let scale = factors[axis]
            return (0..<m).map { i in
                let x = Float(i)
                let original: Float
                switch transform {
                case "half_pixel": original = (x + 0.5) / scale - 0.5
                case "pytorch_half_pixel": original = m > 1 ? (x + 0.5) / scale - 0.5 : 0
                case "align_corners": original = m > 1 ? x * Float(n - 1) / Float(m - 1) : 0
                case "tf_half_pixel_for_nearest": original = (x + 0.5) / scale
                default: original = x / scale
                }
                let index: Float
                switch rounding {
                case "floor": index = original.rounded(.down)
                case "ceil": index = original.rounded(.up)
                case "round_prefer_ceil": index = original.rounded(.toNearestOrAwayFromZero)
                default:
                    index = original - original.rounded(.down) == 0.5 ? original.rounded(.down) : original.rounded()
                }
                // Clamped as a float first: a Float past Int's range must not reach Int(_:).
                return Int(min(max(index.isFinite ? index : 0, 0), Float(n - 1)))
            }
        }
        let out = try newBuffer(outShape, "\(label) output")
        values[node.output[0]] = .runtime(buffer: out, shape: outShape)
        append(
            .resizeNearest(
                input: input, planes: shape[0] * shape[1], height: shape[2], width: shape[3], rows: sources(2),
                columns: sources(3), output: out),
            writes: [out])
    }
}
