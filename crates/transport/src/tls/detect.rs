//! Telling a TLS client from a plain one on a shared port: the first bytes of a TLS connection are a
//! handshake record (content type 0x16, version 3.x) holding a ClientHello; a MongoDB message starts
//! with its little-endian length, which would have to be over 64 KiB with exactly those bytes to look
//! the same. `Rewind` then replays the bytes read to decide, ahead of the rest of the stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// How many bytes [`looks_like_tls`] needs: the record header (5) and the handshake type (1).
pub(crate) const SNIFF_LEN: usize = 6;

/// Whether `first` (at least [`SNIFF_LEN`] bytes, or all the peer sent) opens a TLS ClientHello:
/// a handshake record, major version 3, a record minor version of TLS 1.0 to 1.3, handshake type 1.
pub(crate) fn looks_like_tls(first: &[u8]) -> bool {
    matches!(first, [0x16, 0x03, 0x01..=0x04, _, _, 0x01, ..])
}

/// Reads until `buf` holds [`SNIFF_LEN`] bytes or the peer closed (with fewer). The bytes stay in `buf`.
pub(crate) async fn read_prefix<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; SNIFF_LEN];
    while buf.len() < SNIFF_LEN {
        let n = stream.read(&mut chunk[..SNIFF_LEN - buf.len()]).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// A stream that first yields `prefix` (bytes already read from `inner`), then reads `inner`.
#[derive(Debug)]
pub struct Rewind<S> {
    prefix: Vec<u8>,
    consumed: usize,
    inner: S,
}

impl<S> Rewind<S> {
    /// `inner`, with `prefix` to be read again first.
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Rewind<S> {
        Rewind {
            prefix,
            consumed: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.consumed..).filter(|rest| !rest.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.consumed += n;
            if this.consumed == this.prefix.len() {
                // Replayed: give the memory back.
                this.prefix = Vec::new();
                this.consumed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_client_hello_is_tls_and_a_message_header_is_not() {
        // TLS 1.2/1.3 ClientHello record: 16 03 01 <len> 01 ...
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x03, 0x00, 0xf0, 0x01]));
        // An OP_MSG of 0x116 = 278 bytes starts with 0x16 too: not TLS.
        assert!(!looks_like_tls(&[0x16, 0x01, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00]));
        // A message of exactly 790 bytes (16 03 00 00): not TLS either.
        assert!(!looks_like_tls(&[0x16, 0x03, 0x00, 0x00, 0x01, 0x01]));
        assert!(!looks_like_tls(b"GET / HTTP/1.0"));
        assert!(!looks_like_tls(&[0x16, 0x03]));
    }

    #[tokio::test]
    async fn rewind_replays_the_prefix_then_the_rest() {
        let (mut a, b) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut a, b"0123456789")
            .await
            .unwrap();
        drop(a);
        let mut b = b;
        let mut prefix = Vec::new();
        read_prefix(&mut b, &mut prefix).await.unwrap();
        assert_eq!(prefix, b"012345");
        let mut rewound = Rewind::new(prefix, b);
        let mut all = Vec::new();
        rewound.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"0123456789");
    }
}
