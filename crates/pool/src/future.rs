//! `ConnectionFuture`: the answer to `get`, ready at once or completed later by the pool.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use docwire_rpc::{ErrorCode, Status, StatusResult};
use tokio::sync::oneshot;

use crate::connection::ConnectionInterface;
use crate::handle::ConnectionHandle;

/// What a request's waiter receives.
pub(crate) type Delivery<C> = StatusResult<ConnectionHandle<C>>;

/// The result of [`ConnectionPool::get`](crate::ConnectionPool::get). The request is queued when `get`
/// is called, not when this is first polled, so requests keep the order they were made in. Dropping it
/// abandons the request; a connection that arrives for it anyway goes straight back to the pool.
pub struct ConnectionFuture<C: ConnectionInterface> {
    state: State<C>,
}

enum State<C: ConnectionInterface> {
    /// Answered at once; `None` once taken.
    Ready(Option<Delivery<C>>),
    /// Queued; the pool sends the answer.
    Waiting(oneshot::Receiver<Delivery<C>>),
}

impl<C: ConnectionInterface> ConnectionFuture<C> {
    pub(crate) fn ready(result: Delivery<C>) -> Self {
        ConnectionFuture {
            state: State::Ready(Some(result)),
        }
    }

    pub(crate) fn waiting(receiver: oneshot::Receiver<Delivery<C>>) -> Self {
        ConnectionFuture {
            state: State::Waiting(receiver),
        }
    }

    /// Whether the answer is already here (polling would not wait).
    pub fn is_ready(&self) -> bool {
        match &self.state {
            State::Ready(result) => result.is_some(),
            State::Waiting(receiver) => !receiver.is_empty() || receiver.is_terminated(),
        }
    }
}

// Nothing here is ever pinned in place: the answer is moved out whole, and the receiver is Unpin.
impl<C: ConnectionInterface> Unpin for ConnectionFuture<C> {}

impl<C: ConnectionInterface> Future for ConnectionFuture<C> {
    type Output = Delivery<C>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Delivery<C>> {
        match &mut self.state {
            State::Ready(result) => Poll::Ready(result.take().unwrap_or_else(|| Err(polled_again()))),
            State::Waiting(receiver) => match Pin::new(receiver).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(result)) => Poll::Ready(result),
                // The pool drops a request's sender only when it goes away without answering.
                Poll::Ready(Err(_)) => Poll::Ready(Err(Status::new(
                    ErrorCode::ShutdownInProgress,
                    "the connection pool went away before answering",
                ))),
            },
        }
    }
}

fn polled_again() -> Status {
    Status::new(
        ErrorCode::InternalError,
        "ConnectionFuture polled after it completed",
    )
}

impl<C: ConnectionInterface> fmt::Debug for ConnectionFuture<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionFuture(ready: {})", self.is_ready())
    }
}
