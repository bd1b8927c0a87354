//! The proxy's authorization gate: with `--auth`, every request the proxy forwards is first checked
//! against the client's authentication on the proxy (its own users), exactly as the server's command
//! entry point checks the commands it runs — the handshake and authentication commands need nothing,
//! everything else needs a user whose roles grant it (else Unauthorized 13 with mongod's message). The
//! upstream never sees a request the client may not send: the proxy's upstream connections are
//! authenticated as its service user, whose privileges are not the client's.
//!
//! Also here: how a failure to authenticate to the upstream reaches the client.

use docwire_rpc::{ErrorCode, OpMsg, ReplyBuilder, ReplyProtocol, Status, StatusResult};
use docwire_transport::auth::AuthorizationManager;
use docwire_transport::{CommandRequest, DbResponse, RequestContext};

/// What the gate decided about a request to forward.
pub enum Gate {
    /// Forward it.
    Pass,
    /// Answer it with this reply (the refusal), or with nothing for a moreToCome request.
    Refused(DbResponse),
}

/// Checks the connection's limits (an `Err` closes it) and whether its user may run `msg`.
pub fn check(
    auth: &AuthorizationManager,
    ctx: &RequestContext<'_>,
    msg: &OpMsg,
    name: &str,
    database: &str,
) -> StatusResult<Gate> {
    if !auth.is_enabled() {
        return Ok(Gate::Pass);
    }
    auth.check_connection(ctx.client)?;
    let request = CommandRequest {
        name,
        database,
        body: msg.body(),
        op_msg: Some(msg),
        exhaust_allowed: msg.flags().exhaust_allowed(),
        more_to_come: msg.flags().more_to_come(),
        protocol: ReplyProtocol::OpMsg,
        auth: Some(auth),
    };
    let Err(status) = auth.check_command(ctx.client, ctx.session.map(|s| s.as_ref()), &request) else {
        return Ok(Gate::Pass);
    };
    if msg.flags().more_to_come() {
        return Ok(Gate::Refused(DbResponse::none()));
    }
    let mut reply = ReplyBuilder::new(ReplyProtocol::OpMsg);
    reply.set_command_status(&status);
    Ok(Gate::Refused(DbResponse::reply(reply.done()?.message)))
}

/// Whether a failed checkout is the upstream refusing the proxy's own credentials (the pool's setup
/// authenticates), rather than the host failing.
pub fn is_upstream_auth_failure(status: &Status) -> bool {
    matches!(
        status.code(),
        ErrorCode::AuthenticationFailed | ErrorCode::MechanismUnavailable
    )
}

/// The error a client sees when the proxy cannot authenticate to its upstream: it names the cause and
/// the setting to check, never the password.
pub fn upstream_auth_error(status: &Status) -> Status {
    Status::new(
        status.code(),
        format!(
            "the proxy cannot authenticate to its upstream (check --upstreamUser, \
             --upstreamAuthSource, --upstreamAuthMechanism and the password): {}",
            status.reason()
        ),
    )
}
