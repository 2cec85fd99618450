import Foundation
import PackagePlugin

/// Compiles the files of a target's `Web` folder into the target as `WebFiles.files`, so the
/// binary carries the web client and openapi.json itself: no resource bundle (whose generated
/// accessor imports all of Foundation) and nothing to copy next to the binary.
@main
struct EmbedWeb: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let folder = target.directoryURL.appending(path: "Web")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "WebFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) web files into \(target.name)",
                executable: try context.tool(named: "mscr-embed").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
