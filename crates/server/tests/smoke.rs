//! The `docwire` binary end to end: it starts, answers a ping over TCP, and exits 0 on SIGTERM while an
//! awaitable hello is in flight; `docwire proxy` insists on an upstream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bson::{Document, doc};
use docwire_rpc::{Message, OpMsg, OpMsgBuilder};

fn send(stream: &mut TcpStream, body: &Document) {
    let message = OpMsgBuilder::default().finish_with_body(body).unwrap();
    stream.write_all(message.as_bytes()).unwrap();
}

fn receive(stream: &mut TcpStream) -> Option<Document> {
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).ok()?;
    let len = i32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let mut buf = header.to_vec();
    buf.resize(len, 0);
    stream.read_exact(&mut buf[16..]).ok()?;
    let message = Message::from_bytes(buf.into()).unwrap();
    Some(Document::try_from(OpMsg::parse(&message).unwrap().body()).unwrap())
}

/// Starts the server on a free port and returns it with the port from its "Waiting for connections" line.
fn start() -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_docwire"))
        .args([
            "--port",
            "0",
            "--nounixsocket",
            "--storageEngine",
            "inMemory",
            "--logFormat",
            "json",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    let port = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        if line.contains("Waiting for connections") {
            break port_in_log_line(&line);
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

/// The `port` field of a JSON log line, read without a JSON dependency.
fn port_in_log_line(line: &str) -> u16 {
    let at = line.find("\"port\":").expect("a port field") + "\"port\":".len();
    line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

fn wait_exit(child: &mut Child, within: Duration) -> i32 {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().expect("exited normally");
        }
        assert!(started.elapsed() < within, "the server did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_ping_and_shuts_down_on_sigterm() {
    let (mut child, port) = start();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    send(&mut client, &doc! {"ping": 1, "$db": "admin"});
    assert_eq!(receive(&mut client).unwrap(), doc! {"ok": 1.0});
    send(&mut client, &doc! {"hello": 1, "$db": "admin"});
    let hello = receive(&mut client).unwrap();
    assert!(hello.get_bool("isWritablePrimary").unwrap());

    // An awaitable hello waits for a minute unless shutdown interrupts it.
    let tv = hello.get_document("topologyVersion").unwrap().clone();
    let mut waiter = TcpStream::connect(("127.0.0.1", port)).unwrap();
    send(
        &mut waiter,
        &doc! {"hello": 1, "topologyVersion": tv, "maxAwaitTimeMS": 60_000, "$db": "admin"},
    );
    std::thread::sleep(Duration::from_millis(200));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(wait_exit(&mut child, Duration::from_secs(15)), 0);
    // The waiter got an interruption error or a closed connection, not a minute of silence.
    if let Some(reply) = receive(&mut waiter) {
        assert_eq!(reply.get_f64("ok").unwrap(), 0.0, "{reply}");
    }
}

#[test]
fn proxy_requires_an_upstream() {
    let output = Command::new(env!("CARGO_BIN_EXE_docwire"))
        .arg("proxy")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--upstream"));
}
