import ArgumentParser
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A server started with `/bin/sh -c COMMAND` in its own process group, so that it and every
/// process it starts (a shell, a master and its workers) can be measured and stopped together.
/// Its output goes to a log file, shown when it dies early.
final class SpawnedServer {
    let pid: pid_t
    let logPath: String
    private var exitStatus: Int32?

    /// Starts `command` with `environment` (which should hold `PORT`).
    init(command: String, environment: [String: String], logPath: String) throws {
        self.logPath = logPath
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group (pgid = pid), default signal handlers, nothing blocked.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ["/bin/sh", "-c", command]
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let code = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&pid, "/bin/sh", &actions, &attributes, argvPointers, envPointers)
            }
        }
        guard code == 0 else {
            throw ValidationError("cannot start /bin/sh -c '\(command)': \(String(cString: strerror(code)))")
        }
        self.pid = pid
    }

    /// The shell's exit status if it has ended (reaps it), else nil.
    func exited() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            exitStatus = status
            return status
        }
        return nil
    }

    /// SIGTERM to the whole group; SIGKILL after `grace` seconds if anything is left.
    func stop(grace: Double = 10) {
        kill(-pid, SIGTERM)
        let deadline = Stopwatch.ms() + grace * 1000
        while Stopwatch.ms() < deadline {
            _ = exited()
            if exitStatus != nil && !ProcessGroupMemory.groupAlive(pid) { return }
            Stopwatch.sleep(ms: 5)
        }
        kill(-pid, SIGKILL)
        while exited() == nil { Stopwatch.sleep(ms: 5) }
    }

    /// The last lines of the server's output.
    func logTail(lines: Int = 15) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        let text = String(decoding: data.suffix(16_384), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Describes a wait status: `exited with 1` or `killed by signal 9`.
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "exited with \((status >> 8) & 0xFF)" : "killed by signal \(signal)"
    }
}

/// Calls `body` with a NULL-terminated `char *[]` of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Peak memory of a process group, from `/proc/<pid>/status` (`VmHWM`: the resident set's
/// high-water mark). Samples are kept per process, so workers that come and go still count.
struct ProcessGroupMemory {
    let group: pid_t
    /// pid → highest VmHWM seen, in KiB.
    private(set) var peaks: [pid_t: Int] = [:]

    init(group: pid_t) {
        self.group = group
    }

    /// Reads every live process of the group once.
    mutating func sample() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = pid_t(entry), Self.processGroup(of: pid) == group, let kib = Self.highWaterKiB(of: pid)
            else { continue }
            peaks[pid] = max(peaks[pid] ?? 0, kib)
        }
    }

    /// Sum of the processes' peaks, MiB (an upper bound: shared pages count once per process).
    var totalMiB: Double { Double(peaks.values.reduce(0, +)) / 1024 }
    /// The largest single process's peak, MiB.
    var largestMiB: Double { Double(peaks.values.max() ?? 0) / 1024 }

    /// A process of `group` that is not a zombie exists.
    static func groupAlive(_ group: pid_t) -> Bool {
        guard kill(-group, 0) == 0 else { return false }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return true }
        return entries.contains { entry in
            guard let pid = pid_t(entry), let stat = procStat(of: pid) else { return false }
            return stat.group == group && stat.state != "Z"
        }
    }

    static func processGroup(of pid: pid_t) -> pid_t? { procStat(of: pid)?.group }

    /// State and process group: fields 3 and 5 of `/proc/<pid>/stat` (after the parenthesised
    /// command name, which may hold spaces).
    static func procStat(of pid: pid_t) -> (state: Substring, group: pid_t)? {
        guard let text = readProcFile("/proc/\(pid)/stat") else { return nil }
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields: state, ppid, pgrp, …
        guard fields.count > 2, let group = pid_t(fields[2]) else { return nil }
        return (fields[0], group)
    }

    static func highWaterKiB(of pid: pid_t) -> Int? {
        guard let text = readProcFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).split { $0 == " " || $0 == "\t" }.first ?? "")
        }
        return nil
    }
}

/// A /proc file's text. They report a size of 0, so read until the end instead of trusting it.
private func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A TCP port that was free a moment ago on 127.0.0.1 (bound to 0, read, closed).
func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ValidationError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    guard bound else { throw ValidationError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
