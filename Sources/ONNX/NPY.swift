/// A tiny NumPy `.npy` reader and writer: float32, little-endian, C order only.
package enum NPY {
    /// Parses `.npy` bytes into a shape and values.
    package static func read(_ bytes: [UInt8], name: String) throws -> (shape: [Int], values: [Float]) {
        func fail(_ why: String) -> ONNXError {
            ONNXError(
                .invalidInput,
                "\(name): \(why) (expected a float32 little-endian C-order .npy, e.g. numpy.save(path, a.astype('<f4')))"
            )
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file") }
        let major = bytes[6]
        let headerLength: Int
        let start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else if major == 2 || major == 3, bytes.count >= 12 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        } else {
            throw fail("unknown .npy version \(major)")
        }
        guard start + headerLength <= bytes.count else { throw fail("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self).filter { $0 != " " }
        guard header.contains("'descr':'<f4'") else { throw fail("dtype is not '<f4'") }
        guard header.contains("'fortran_order':False") else { throw fail("Fortran order") }
        guard let open = header.firstRange(of: "'shape':("), let close = header[open.upperBound...].firstIndex(of: ")")
        else {
            throw fail("no shape in header")
        }
        let shape = try header[open.upperBound..<close].split(separator: ",").map { part -> Int in
            guard let d = Int(part), d >= 0 else { throw fail("bad shape") }
            return d
        }
        guard let count = Shapes.count(shape) else { throw fail("shape \(shape) is too large") }
        let dataStart = start + headerLength
        guard bytes.count - dataStart == count * 4 else {
            throw fail("shape \(shape) needs \(count * 4) bytes of data, the file has \(bytes.count - dataStart)")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = dataStart + 4 * i
            let bits =
                UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            values[i] = Float(bitPattern: bits)
        }
        return (shape, values)
    }

    /// `.npy` (version 1.0) bytes of `values` with `shape`.
    package static func write(shape: [Int], values: [Float]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + 4 * values.count)
        for v in values {
            let b = v.bitPattern
            out += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
        }
        return out
    }
}
