//! `hostInfo`: the machine (host name, memory, cores, architecture) and the OS, read from /proc.

use async_trait::async_trait;
use bson::{DateTime, doc};
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::util::{hostname, int, long};
use crate::service_entry_point::RequestContext;

/// The hostInfo command.
pub struct HostInfo;

#[async_trait]
impl Command for HostInfo {
    fn names(&self) -> &'static [&'static str] {
        &["hostInfo"]
    }

    fn help(&self) -> &'static str {
        "returns information about the daemon's host"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let os_type = if cfg!(target_os = "linux") {
            "Linux"
        } else {
            std::env::consts::OS
        };
        reply.set_command_reply(doc! {
            "system": {
                "currentTime": DateTime::now(),
                "hostname": hostname(),
                "cpuAddrSize": 64,
                "memSizeMB": long(mem_total_mb().unwrap_or(0)),
                "numCores": int(cores),
                "cpuArch": std::env::consts::ARCH,
                "numaEnabled": false,
            },
            "os": {
                "type": os_type,
                "name": distro_name(),
                "version": kernel_version(),
            },
            "extra": {},
            "ok": 1.0,
        });
        Ok(())
    }
}

/// MemTotal from /proc/meminfo, in MiB.
fn mem_total_mb() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// The distribution's PRETTY_NAME, as mongod reports os.name on Linux.
fn distro_name() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// mongod reports os.version on Linux as `Kernel <release>`.
fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| format!("Kernel {}", r.trim()))
        .unwrap_or_else(|_| "unknown".to_owned())
}
