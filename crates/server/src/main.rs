//! `docwire`: composes the crates into a server — the embedded database by default, `docwire proxy` in front
//! of upstream servers.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("docwire: the server is not built yet (see the ingress issue); nothing to run")
}
