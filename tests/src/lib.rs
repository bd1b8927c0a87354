//! Cross-crate and real-driver tests for docwire; shared helpers live here, the tests under `tests/`.
//!
//! The real-driver tests start the server in-process ([`start_server`]), record its state-machine
//! transitions ([`Transitions`]) and run unmodified clients: the Rust `mongodb` crate in-process, and
//! pymongo, mongosh and the Node driver as child processes installed by `cargo xtask drivers` under
//! target/drivers/ ([`python`], [`mongosh`], [`node_modules`]).

// Helpers for tests: they fail the test by panicking with what went wrong.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod crud;

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
/// and no Unix socket unless the flags ask for one; `transitions`, when given, records the state machine.
pub async fn start_server(flags: &[&str], transitions: Option<&Transitions>) -> RunningServer {
    let mut all = vec!["--port", "0"];
    if !flags
        .iter()
        .any(|f| *f == "--unixSocketPrefix" || *f == "--nounixsocket")
    {
        all.push("--nounixsocket");
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
