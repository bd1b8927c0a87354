//! `Baton`: lets an operation drive the networking of its own remote commands, and run their callbacks,
//! on its own task instead of the executor's (mongod's Baton), so it makes progress even when every
//! executor worker is busy.

use std::future::Future;
use std::pin::Pin;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;

type BatonJob = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An operation's own run queue for remote work. Work submitted to it runs only while the owner is
/// inside [`run_until`](Baton::run_until); dropping the baton with work left runs those callbacks,
/// cancelled, on the executor instead.
#[derive(Debug)]
pub struct Baton {
    sender: mpsc::UnboundedSender<BatonJob>,
    receiver: mpsc::UnboundedReceiver<BatonJob>,
    running: FuturesUnordered<BatonJob>,
}

impl Default for Baton {
    fn default() -> Self {
        Baton::new()
    }
}

impl Baton {
    /// An empty baton.
    pub fn new() -> Baton {
        let (sender, receiver) = mpsc::unbounded_channel();
        Baton {
            sender,
            receiver,
            running: FuturesUnordered::new(),
        }
    }

    pub(crate) fn submit(&self, job: BatonJob) {
        // The receiver lives as long as the baton, and `submit` needs `&self`, so this cannot fail.
        let _ = self.sender.send(job);
    }

    /// How many submitted jobs have not finished.
    pub fn pending(&self) -> usize {
        self.running.len() + self.receiver.len()
    }

    /// Runs `until` while driving the baton's work on this task; returns `until`'s output.
    pub async fn run_until<F: Future>(&mut self, until: F) -> F::Output {
        let mut until = std::pin::pin!(until);
        loop {
            tokio::select! {
                biased;
                Some(job) = self.receiver.recv() => self.running.push(job),
                Some(()) = self.running.next(), if !self.running.is_empty() => {}
                output = &mut until => return output,
            }
        }
    }
}
