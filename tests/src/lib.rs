//! Cross-crate and real-driver tests for docwire; shared helpers live here, the tests under `tests/`.
//!
//! The real-driver tests start the server in-process ([`start_server`]), record its state-machine
//! transitions ([`Transitions`]) and run unmodified clients: the Rust `mongodb` crate in-process, and
//! pymongo, mongosh and the Node driver as child processes installed by `cargo xtask drivers` under
//! target/drivers/ ([`python`], [`mongosh`], [`node_modules`]).

// Helpers for tests: they fail the test by panicking with what went wrong.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod crud;
pub mod proxy;
pub mod rust_crud;
pub mod tls;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use docwire_server::RunningServer;
pub use docwire_transport::State;
use docwire_transport::TransitionObserver;
use tokio::sync::watch;

/// How long a test waits for something a client should do within a second or two.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The workspace root (the tests package lives one level below it).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Where `cargo xtask drivers` installs the real clients.
pub fn drivers_dir() -> PathBuf {
    workspace_root().join("target/drivers")
}

/// The venv Python that has pymongo.
pub fn python() -> PathBuf {
    installed(drivers_dir().join("venv/bin/python"))
}

/// The mongosh launcher.
pub fn mongosh() -> PathBuf {
    installed(drivers_dir().join("node/node_modules/.bin/mongosh"))
}

/// The node_modules folder that has the `mongodb` package (the Node driver).
pub fn node_modules() -> PathBuf {
    installed(drivers_dir().join("node/node_modules/mongodb"));
    drivers_dir().join("node/node_modules")
}

/// A script under tests/drivers/.
pub fn driver_script(name: &str) -> PathBuf {
    workspace_root().join("tests/drivers").join(name)
}

fn installed(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask drivers` to install the real clients",
        path.display()
    );
    path
}

/// A recorder of the server's state-machine transitions `(session id, from, to)`, which tests can wait on.
#[derive(Clone)]
pub struct Transitions {
    log: Arc<Mutex<Vec<(u64, State, State)>>>,
    changed: Arc<watch::Sender<usize>>,
}

impl Default for Transitions {
    fn default() -> Self {
        Transitions {
            log: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
        }
    }
}

impl Transitions {
    /// A new, empty recorder.
    pub fn new() -> Transitions {
        Transitions::default()
    }

    /// The observer to hand to the server.
    pub fn observer(&self) -> TransitionObserver {
        let this = self.clone();
        Arc::new(move |session, from, to| {
            this.lock().push((session, from, to));
            this.changed.send_modify(|n| *n += 1);
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(u64, State, State)>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every transition so far, in order.
    pub fn all(&self) -> Vec<(u64, State, State)> {
        self.lock().clone()
    }

    /// The ids of the sessions seen so far, in order of their first transition.
    pub fn sessions(&self) -> Vec<u64> {
        let mut ids = Vec::new();
        for (id, _, _) in self.lock().iter() {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        ids
    }

    /// The transitions of one session, as `(from, to)` pairs.
    pub fn of(&self, session: u64) -> Vec<(State, State)> {
        self.lock()
            .iter()
            .filter(|(id, _, _)| *id == session)
            .map(|&(_, from, to)| (from, to))
            .collect()
    }

    /// Whether `session` went through `path` (consecutive states, e.g. `[ProcessMoreToCome, Source]`).
    pub fn session_walked(&self, session: u64, path: &[State]) -> bool {
        let steps: Vec<(State, State)> = path.windows(2).map(|w| (w[0], w[1])).collect();
        self.of(session)
            .windows(steps.len())
            .any(|w| w == steps.as_slice())
    }

    /// The sessions that went through `path`.
    pub fn sessions_that_walked(&self, path: &[State]) -> Vec<u64> {
        self.sessions()
            .into_iter()
            .filter(|&s| self.session_walked(s, path))
            .collect()
    }

    /// Waits (up to [`PATIENCE`]) until `done` holds, re-checking after every transition; panics with
    /// `what` and the transitions seen if it never does.
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&Transitions) -> bool) {
        let mut rx = self.changed.subscribe();
        let waited = tokio::time::timeout(PATIENCE, async {
            loop {
                if done(self) {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(
            waited.is_ok() && done(self),
            "timed out waiting for {what}; transitions: {:?}",
            self.all()
        );
    }
}

/// The service executors a test runs under.
pub const EXECUTORS: [&str; 2] = ["async", "synchronous"];

/// Starts a server in-process on a free port with `flags` (e.g. `["--serviceExecutor", "synchronous"]`)
/// and no Unix socket unless the flags ask for one, on the in-memory engine unless they name a --dbpath
/// or an engine; `transitions`, when given, records the state machine.
pub async fn start_server(flags: &[&str], transitions: Option<&Transitions>) -> RunningServer {
    let mut all = vec!["--port", "0"];
    if !flags
        .iter()
        .any(|f| *f == "--unixSocketPrefix" || *f == "--nounixsocket")
    {
        all.push("--nounixsocket");
    }
    // Tests run in parallel processes: without an explicit --dbpath they must not share ./docwire-data.
    if !flags.iter().any(|f| *f == "--dbpath" || *f == "--storageEngine") {
        all.extend(["--storageEngine", "inMemory"]);
    }
    all.extend_from_slice(flags);
    let settings = docwire_server::Settings::from_flags(all.iter().copied())
        .unwrap_or_else(|e| panic!("bad flags {all:?}: {e:#}"));
    docwire_server::start(&settings, transitions.map(Transitions::observer))
        .await
        .unwrap_or_else(|e| panic!("cannot start the server with {all:?}: {e:#}"))
}

/// Runs a client program to completion (killed after [`PATIENCE`]); panics with its output unless it
/// exits 0. Returns its stdout.
pub async fn run_client(program: &Path, args: &[&str], envs: &[(&str, &Path)]) -> String {
    let mut command = tokio::process::Command::new(program);
    command.args(args).kill_on_drop(true);
    for (key, value) in envs {
        command.env(key, value);
    }
    let shown = format!("{} {}", program.display(), args.join(" "));
    let output: Output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .unwrap_or_else(|_| panic!("`{shown}` did not finish within {PATIENCE:?}"))
        .unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`{shown}` failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The last line of `stdout` that parses as a JSON object (clients may print banners first).
pub fn last_json(stdout: &str) -> serde_json::Value {
    stdout
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line.trim()).ok())
        .find(serde_json::Value::is_object)
        .unwrap_or_else(|| panic!("no JSON object in the client's output:\n{stdout}"))
}

/// The `docwire` binary of the profile these tests were built with (`target/<profile>/docwire`, found
/// from the test executable's path), built first with `cargo build -p docwire-server` when it is
/// missing or older than any source under `crates/` (so a test never runs a stale server).
pub fn docwire_binary() -> PathBuf {
    static BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BINARY.get_or_init(fresh_docwire_binary).clone()
}

fn fresh_docwire_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test>-<hash>
    let profile_dir = exe
        .ancestors()
        .find(|dir| dir.parent().and_then(Path::file_name) == Some("target".as_ref()))
        .or_else(|| exe.parent().and_then(Path::parent))
        .expect("the test executable lives under target/<profile>/")
        .to_path_buf();
    let binary = profile_dir.join(format!("docwire{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    if built.is_some_and(|at| newest_source() <= at) {
        return binary;
    }
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "-p",
            "docwire-server",
            "--bin",
            "docwire",
            "--profile",
            &profile,
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p docwire-server failed: {status}");
    assert!(binary.exists(), "{} is missing after the build", binary.display());
    binary
}

/// The latest modification time of the workspace's crate sources and manifests.
fn newest_source() -> std::time::SystemTime {
    fn walk(dir: &Path, newest: &mut std::time::SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(at) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(at);
            }
        }
    }
    let root = workspace_root();
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for file in ["Cargo.lock", "Cargo.toml"] {
        if let Ok(at) = std::fs::metadata(root.join(file)).and_then(|m| m.modified()) {
            newest = newest.max(at);
        }
    }
    walk(&root.join("crates"), &mut newest);
    newest
}

/// A `docwire` process (the real binary, see [`docwire_binary`]) listening on a free port; killed
/// (SIGKILL) when dropped.
pub struct DocwireProcess {
    /// The child process.
    pub child: tokio::process::Child,
    /// The TCP port it listens on.
    pub port: u16,
}

impl DocwireProcess {
    /// Starts `docwire --port 0 --nounixsocket --logFormat json <flags>` and waits (up to
    /// [`PATIENCE`]) for its "Waiting for connections" log line.
    pub async fn start(flags: &[&str]) -> DocwireProcess {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(docwire_binary())
            .args(["--port", "0", "--nounixsocket", "--logFormat", "json"])
            .args(flags)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("docwire starts");
        let stdout = child.stdout.take().expect("its stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let port = tokio::time::timeout(PATIENCE, async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .expect("docwire's log")
                    .expect("docwire exited before listening");
                if line.contains("Waiting for connections") {
                    let at = line.find("\"port\":").expect("a port field") + "\"port\":".len();
                    let digits: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
                    return digits.parse::<u16>().expect("a port number");
                }
            }
        })
        .await
        .expect("docwire listens within the patience");
        // Keep draining the log so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        DocwireProcess { child, port }
    }

    /// The URI a driver connects with.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// Kills the process with SIGKILL (no chance to flush or clean up) and waits for it to die.
    pub async fn sigkill(mut self) {
        self.child.kill().await.expect("SIGKILL docwire");
    }
}
