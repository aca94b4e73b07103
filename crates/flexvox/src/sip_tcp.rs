//! SIP over TCP (RFC 3261 §18): accepts connections on the SIP address, frames each one with
//! the sans-IO `StreamFramer`, and hands whole messages to the SIP task. One connection per
//! remote address: responses go back on the connection their request came on (§18.2.2) and
//! requests to a peer reuse an open connection, else one is opened.

use sip::transport::{StreamFramer, DEFAULT_MAX_MESSAGE};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A connection with no traffic for this long is closed. Phones registered over TCP refresh
/// well within it (a registration lasts at most an hour).
const IDLE: Duration = Duration::from_secs(3700);
/// Connections past this many are refused, so a flood of idle ones cannot exhaust sockets.
const MAX_CONNECTIONS: usize = 4096;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the connections report to the SIP task.
#[derive(Debug)]
pub enum TcpEvent {
    /// A connection we accepted: later sends to `peer` use `writer`.
    Opened {
        peer: SocketAddr,
        id: u64,
        writer: mpsc::UnboundedSender<Vec<u8>>,
    },
    Message(SocketAddr, Vec<u8>),
    Closed {
        peer: SocketAddr,
        id: u64,
    },
}

/// The SIP task's side: open connections by remote address.
pub struct TcpTransport {
    conns: HashMap<SocketAddr, (u64, mpsc::UnboundedSender<Vec<u8>>)>,
    events: mpsc::UnboundedSender<TcpEvent>,
    next_id: u64,
}

impl TcpTransport {
    /// Starts accepting on `listener` (if any); events arrive on the returned receiver.
    pub fn start(
        listener: Option<TcpListener>,
    ) -> (TcpTransport, mpsc::UnboundedReceiver<TcpEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
        if let Some(listener) = listener {
            tokio::spawn(accept_loop(listener, events.clone()));
        }
        let transport = TcpTransport {
            conns: HashMap::new(),
            events,
            next_id: 1,
        };
        (transport, rx)
    }

    /// Bookkeeping for an event; returns the message it carries, if any.
    pub fn on_event(&mut self, event: TcpEvent) -> Option<(SocketAddr, Vec<u8>)> {
        match event {
            TcpEvent::Opened { peer, id, writer } => {
                self.conns.insert(peer, (id, writer));
                None
            }
            TcpEvent::Message(peer, bytes) => Some((peer, bytes)),
            TcpEvent::Closed { peer, id } => {
                if self.conns.get(&peer).is_some_and(|(i, _)| *i == id) {
                    self.conns.remove(&peer);
                }
                None
            }
        }
    }

    /// Sends on the connection to `to`, opening one if there is none.
    pub fn send(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        if let Some((_, writer)) = self.conns.get(&to) {
            if writer.send(bytes.clone()).is_ok() {
                return;
            }
        }
        let (writer, queue) = mpsc::unbounded_channel();
        let _ = writer.send(bytes);
        // Outgoing connections take odd ids, accepted ones even: the two never collide.
        self.next_id += 2;
        let id = self.next_id;
        self.conns.insert(to, (id, writer));
        let events = self.events.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(to)).await {
                Ok(Ok(stream)) => run_connection(stream, to, id, queue, events).await,
                Ok(Err(e)) => {
                    tracing::info!(%to, error = %e, "SIP TCP connect failed");
                    let _ = events.send(TcpEvent::Closed { peer: to, id });
                }
                Err(_) => {
                    tracing::info!(%to, "SIP TCP connect timed out");
                    let _ = events.send(TcpEvent::Closed { peer: to, id });
                }
            }
        });
    }
}

async fn accept_loop(listener: TcpListener, events: mpsc::UnboundedSender<TcpEvent>) {
    let open = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut id = 0u64;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "SIP TCP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if open.load(std::sync::atomic::Ordering::Relaxed) >= MAX_CONNECTIONS {
            tracing::warn!(%peer, "too many SIP TCP connections: refused");
            continue;
        }
        id += 2;
        let (writer, queue) = mpsc::unbounded_channel();
        if events.send(TcpEvent::Opened { peer, id, writer }).is_err() {
            return;
        }
        let (events, open) = (events.clone(), open.clone());
        open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::spawn(async move {
            run_connection(stream, peer, id, queue, events).await;
            open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        });
    }
}

/// Reads and frames messages, writes what is queued, until either side closes, the framer
/// finds a broken stream, or the connection idles out.
async fn run_connection(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    mut queue: mpsc::UnboundedReceiver<Vec<u8>>,
    events: mpsc::UnboundedSender<TcpEvent>,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let mut framer = StreamFramer::new(DEFAULT_MAX_MESSAGE);
    let mut buf = vec![0u8; 16 * 1024];
    'conn: loop {
        tokio::select! {
            read = tokio::time::timeout(IDLE, reader.read(&mut buf)) => {
                let n = match read {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break 'conn,
                    Ok(Ok(n)) => n,
                };
                framer.push(&buf[..n]);
                loop {
                    match framer.next_message() {
                        Ok(Some(msg)) => {
                            if events.send(TcpEvent::Message(peer, msg)).is_err() {
                                break 'conn;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::info!(%peer, error = %e, "closing a broken SIP TCP stream");
                            break 'conn;
                        }
                    }
                }
            }
            out = queue.recv() => match out {
                Some(bytes) => {
                    if writer.write_all(&bytes).await.is_err() {
                        break 'conn;
                    }
                }
                None => break 'conn,
            },
        }
    }
    let _ = events.send(TcpEvent::Closed { peer, id });
}
