import Common

/// The container every compiled artifact shares (docs/formats.md), whatever model it holds: a
/// 24-byte preamble (`magic`, format version u32 LE, page size u32 LE, header length u64 LE),
/// the header JSON (its `format` names the kind of model, its `target` the CPU layout, its
/// `dataBytes` the size of the data), then the data from the next page boundary: float regions
/// laid out by a `Writer`, little-endian. `DarknetArtifact` and the ONNX importer's artifact
/// differ only in the rest of their header.
package enum ArtifactContainer {
    /// `MSCRART` and a NUL.
    package static let magic: [UInt8] = [0x4D, 0x53, 0x43, 0x52, 0x41, 0x52, 0x54, 0x00]
    /// The version of this layout; a reader uses only artifacts of its own version. 4: 3×3
    /// stride-2 layers of 32 channels are `plain` again (`DirectConvolution`), not `strided8`.
    package static let formatVersion: UInt32 = 4
    package static let pageSize = 4096
    package static let preambleSize = 24

    /// Lays out float regions in the data: each one at a page boundary (large weights, so a
    /// mapping shares pages with nothing else) or at 64 bytes (biases, small constants).
    package struct Writer {
        private(set) var regions: [(offset: Int, floats: [Float])] = []
        /// Bytes of data so far.
        package private(set) var cursor = 0

        package init() {}

        /// Places `floats` and returns their byte offset in the data.
        package mutating func add(_ floats: [Float], pageAligned: Bool) -> Int {
            let offset = align(cursor, pageAligned ? pageSize : 64)
            regions.append((offset, floats))
            cursor = offset + 4 * floats.count
            return offset
        }

        /// Pads the data to a page boundary (where the next region would start).
        package mutating func endPage() { cursor = align(cursor, pageSize) }
    }

    /// The artifact bytes of `header` (which gets `format`, `target` and `dataBytes` added) and
    /// the data `writer` laid out.
    package static func write(
        format: String, header: [(String, JSONValue)], data writer: Writer, target: ArtifactTarget = .current,
        version: UInt32 = formatVersion
    ) -> [UInt8] {
        var writer = writer
        writer.endPage()
        let members: [(String, JSONValue)] =
            [("format", format.json), ("target", target.json)] + header + [("dataBytes", writer.cursor.json)]
        let json = JSONValue.object(members).bytes()
        let dataStart = align(preambleSize + json.count, pageSize)
        var out = [UInt8](repeating: 0, count: dataStart + writer.cursor)
        out.replaceSubrange(0..<8, with: magic)
        put(version, at: 8, in: &out)
        put(UInt32(pageSize), at: 12, in: &out)
        put(UInt64(json.count), at: 16, in: &out)
        out.replaceSubrange(preambleSize..<(preambleSize + json.count), with: json)
        out.withUnsafeMutableBytes { dst in
            for region in writer.regions {
                region.floats.withUnsafeBytes { src in
                    guard let from = src.baseAddress else { return }
                    dst.baseAddress!.advanced(by: dataStart + region.offset).copyMemory(
                        from: from, byteCount: src.count)
                }
            }
        }
        return out
    }

    /// An opened artifact: its header and its data.
    package struct Contents {
        package var header: JSONValue
        package var data: UnsafeRawPointer
        package var dataBytes: Int

        /// `count` floats at byte `offset` of the data, checked to lie inside it at `alignment`.
        package func floats(at offset: Int?, count: Int?, alignment: Int = 4, what: String) throws -> (
            UnsafePointer<Float>, Int
        ) {
            guard let offset, let count, offset >= 0, count >= 0, offset % alignment == 0,
                count <= (dataBytes - offset) / 4
            else { throw ArtifactContainer.malformed("\(what) lies outside the data or is misaligned") }
            return ((data + offset).assumingMemoryBound(to: Float.self), count)
        }
    }

    /// Checks an artifact at `base` (`count` bytes): magic, format version, header, kind
    /// (`format`), CPU target and size. Throws `incompatibleArtifact` for another format
    /// version or target (use the sources then), `invalidModel` for bytes that are not an
    /// artifact of kind `format` or are truncated.
    package static func open(_ base: UnsafeRawPointer, count: Int, format: String) throws -> Contents {
        let (header, dataStart) = try readHeader(base, count: count)
        guard let kind = header["format"]?.stringValue, kind == format else {
            let kind = header["format"]?.stringValue ?? "unnamed"
            throw malformed("it holds a \(kind) model, not \(format)")
        }
        guard let target = ArtifactTarget(json: header["target"]) else { throw malformed("the header has no target") }
        guard target == ArtifactTarget.current else {
            throw InferenceError(
                .incompatibleArtifact,
                "the artifact was laid out for \(target); this build runs \(ArtifactTarget.current)")
        }
        guard let dataBytes = header["dataBytes"]?.intValue else { throw malformed("the header lacks dataBytes") }
        guard dataBytes >= 0, dataStart + dataBytes == count else {
            throw malformed("it is \(count) bytes, its header says \(dataStart + dataBytes) (truncated?)")
        }
        return Contents(header: header, data: base + dataStart, dataBytes: dataBytes)
    }

    /// The header JSON and where the data starts; throws for bytes that are not an artifact of
    /// this format version.
    package static func readHeader(_ base: UnsafeRawPointer, count: Int) throws -> (JSONValue, Int) {
        guard count >= preambleSize, (0..<8).allSatisfy({ base.load(fromByteOffset: $0, as: UInt8.self) == magic[$0] })
        else { throw malformed("it does not start with the artifact magic") }
        let version = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == formatVersion else {
            throw InferenceError(
                .incompatibleArtifact, "artifact format version \(version); this build reads version \(formatVersion)")
        }
        let page = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let length = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard page == pageSize, length <= UInt64(count - preambleSize) else {
            throw malformed("its header length \(length) or page size \(page) does not fit its \(count) bytes")
        }
        let json = UnsafeRawBufferPointer(start: base + preambleSize, count: Int(length))
        guard let header = try? JSONValue.parse(json), header.members != nil else {
            throw malformed("its header is not a JSON object")
        }
        return (header, align(preambleSize + Int(length), pageSize))
    }

    /// The error for an artifact that is not well formed.
    package static func malformed(_ why: String) -> InferenceError {
        InferenceError(.invalidModel, "the compiled artifact is not usable: \(why)")
    }

    static func align(_ n: Int, _ to: Int) -> Int { (n + to - 1) / to * to }

    private static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + $0.count), with: $0) }
    }
}
