#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain OS thread (what `Foundation.Thread` gave) for blocking client loops: `mscr load`
/// runs one per simulated user, each blocked in libcurl, which must not sit on a dispatch or
/// cooperative pool.
package enum OSThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new detached thread with `stackSize` bytes of stack.
    package static func start(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) {
        _ = spawn(stackSize: stackSize, detached: true, body)
    }

    /// A thread started by ``startJoinable(stackSize:_:)``.
    package struct Joinable: Sendable {
        fileprivate let thread: pthread_t?

        /// Waits until the thread has ended, its thread-exit destructors included (OpenSSL's and
        /// the allocator's per-thread state: a process that exits while a detached thread still
        /// runs them can corrupt the heap in its `atexit` handlers).
        package func join() {
            if let thread { pthread_join(thread, nil) }
        }
    }

    /// Starts `body` on a new thread that ``Joinable/join()`` waits for (when no thread can be
    /// made, `body` runs here and `join` returns at once).
    package static func startJoinable(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) -> Joinable {
        Joinable(thread: spawn(stackSize: stackSize, detached: false, body))
    }

    /// The new thread running `body`, or nil when none could be made and `body` ran here
    /// instead (rather than be lost).
    private static func spawn(stackSize: Int, detached: Bool, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        if detached { pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED)) }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, &attributes,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        guard status == 0 else {
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
            return nil
        }
        return detached ? nil : thread
    }
}
