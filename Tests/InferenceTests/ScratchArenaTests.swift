import Foundation
import Testing

@testable import Inference

/// A network's scratch arena is resident and zeroed when it is created (so the first request
/// pays no page faults) and its buffers are where the plan put them.
@Suite("Scratch arenas")
struct ScratchArenaTests {
    @Test func everyPageIsPresentAndZeroAtCreation() throws {
        let config = try DarknetConfig(
            text: try SharedData.text("data/models/yolo-fastest-1.1/yolo-fastest-1.1.cfg"), width: 320, height: 320)
        let plan = MemoryPlan(input: config.input, layers: ResidualFusion.fuse(config.layers), extraWorkspace: 5000)
        let arena = ScratchArena(plan: plan)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: UnsafeRawPointer(arena.base)) / UInt(page) * UInt(page)
        let end = UInt(bitPattern: UnsafeRawPointer(arena.base + arena.count))
        let pages = Int((end - start + UInt(page) - 1) / UInt(page))
        var resident = [UInt8](repeating: 0, count: pages)
        let rc = mincore(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), &resident)
        #expect(rc == 0)
        #expect(
            resident.allSatisfy { $0 & 1 == 1 }, "\(resident.filter { $0 & 1 == 0 }.count) of \(pages) pages absent")
        #expect(UnsafeBufferPointer(start: arena.base, count: arena.count).allSatisfy { $0 == 0 })
        #expect(arena.count >= plan.totalFloats)
        for (i, offset) in plan.offsets.enumerated() { #expect(arena.table[i] == arena.base + offset) }
        for (i, offset) in plan.workspaceOffsets.enumerated() { #expect(arena.workspaces[i] == arena.base + offset) }
        #expect(arena.inputWorkspace == arena.base + plan.inputWorkspaceOffset)
    }
}
