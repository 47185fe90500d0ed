import Foundation
import PlexusProto

/// This process's resource use, for GET_PROCESS_STATS.
enum ProcessStatsReader {
    static let started = ContinuousClock.now

    static func read(units: [String]) -> Plexus_Control_V1_ProcessStats {
        var s = Plexus_Control_V1_ProcessStats()
        s.pid = UInt32(getpid())
        s.host = ProcessInfo.processInfo.hostName
        let (sec, atto) = (ContinuousClock.now - started).components
        s.uptimeSeconds = Double(sec) + Double(atto) / 1e18
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let parts = statm.split(separator: " ")
            if parts.count > 1, let pages = UInt64(parts[1]) { s.rssBytes = pages * UInt64(sysconf(Int32(_SC_PAGESIZE))) }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        s.cpuUserSeconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        s.cpuSystemSeconds = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        s.units = units
        return s
    }
}
