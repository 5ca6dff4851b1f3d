//! Lambda's CPU share, reproduced with cgroup v1: a `cpu` group whose CFS quota is the
//! share of one core a function of a given memory size gets (1,769 MB = one vCPU), and a
//! `cpuacct` group that counts the CPU time of what runs in it. Needs root and both
//! controllers mounted under `/sys/fs/cgroup` (the benchmark says so when they are not).

use std::fs;
use std::path::PathBuf;

use crate::BoxError;

/// The CFS period Lambda's share is expressed in here.
pub const PERIOD_US: u64 = 20_000;

/// The CPU quota per period of a function with `memory_mb`: 128 MB gets 1,447 us of
/// every 20 ms (7.2 % of a core).
pub fn quota_us(memory_mb: u64) -> u64 {
    PERIOD_US * memory_mb / 1_769
}

pub struct CpuShare {
    cpu: PathBuf,
    cpuacct: PathBuf,
}

impl CpuShare {
    /// Creates the groups `name` with a quota of `quota_us` per [`PERIOD_US`].
    pub fn create(name: &str, quota_us: u64) -> Result<CpuShare, BoxError> {
        let root = PathBuf::from("/sys/fs/cgroup");
        let share = CpuShare {
            cpu: root.join("cpu").join(name),
            cpuacct: root.join("cpuacct").join(name),
        };
        for dir in [&share.cpu, &share.cpuacct] {
            fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "{}: {e} (a cgroup v1 cpu and cpuacct mount and root are needed)",
                    dir.display()
                )
            })?;
        }
        fs::write(share.cpu.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
        fs::write(share.cpu.join("cpu.cfs_quota_us"), quota_us.to_string())?;
        Ok(share)
    }

    /// Moves process `pid`, every thread of it, into both groups.
    pub fn enter(&self, pid: u32) -> Result<(), BoxError> {
        for dir in [&self.cpu, &self.cpuacct] {
            fs::write(dir.join("cgroup.procs"), pid.to_string())?;
        }
        Ok(())
    }

    /// CPU time used in the group so far, in nanoseconds.
    pub fn usage_ns(&self) -> Result<u64, BoxError> {
        Ok(fs::read_to_string(self.cpuacct.join("cpuacct.usage"))?
            .trim()
            .parse()?)
    }

    /// How often the group was throttled so far.
    pub fn throttled(&self) -> Result<u64, BoxError> {
        let stat = fs::read_to_string(self.cpu.join("cpu.stat"))?;
        Ok(stat
            .lines()
            .find_map(|l| l.strip_prefix("nr_throttled "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.cpu);
        let _ = fs::remove_dir(&self.cpuacct);
    }
}

/// CPU time process `pid` has used so far (every live thread), in nanoseconds.
pub fn process_cpu_ns(pid: u32) -> u64 {
    fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
