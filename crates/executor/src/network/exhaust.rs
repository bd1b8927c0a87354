//! `ExhaustReplies`: the replies of one exhaust command, as the network produces them.

use tokio::sync::mpsc;

use docwire_transport::client::RemoteCommandOnAnyResponse;

use super::on_drop::OnDrop;

/// The receiving end of an exhaust command. Dropping it before the last reply cancels the command.
#[derive(Debug)]
pub struct ExhaustReplies {
    receiver: mpsc::UnboundedReceiver<RemoteCommandOnAnyResponse>,
    on_cancel: Option<OnDrop>,
}

impl ExhaustReplies {
    /// The replies arriving on `receiver`; `on_cancel` runs if this is dropped before a reply without
    /// moreToCome (or a failure) was read.
    pub fn new(
        receiver: mpsc::UnboundedReceiver<RemoteCommandOnAnyResponse>,
        on_cancel: OnDrop,
    ) -> ExhaustReplies {
        ExhaustReplies {
            receiver,
            on_cancel: Some(on_cancel),
        }
    }

    /// The next reply; `None` once the stream has ended (after the last reply or a sender gone away).
    pub async fn next(&mut self) -> Option<RemoteCommandOnAnyResponse> {
        let reply = self.receiver.recv().await?;
        if !reply.response.more_to_come || reply.response.status.is_err() {
            // The stream is over: nothing left to cancel.
            if let Some(guard) = self.on_cancel.take() {
                guard.disarm();
            }
        }
        Some(reply)
    }
}
