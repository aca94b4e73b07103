//! SIP for flexvox, sans-IO: the message model with its parser and printer, SDP offer/answer,
//! the RFC 3261 transaction state machines and a user agent that turns datagrams into call
//! events. Nothing here owns a socket, reads a clock or draws random numbers: time comes in as
//! `Instant` arguments, bytes come in and go out as values, identifiers come from a seed.

pub mod digest;
pub mod message;
pub mod policy;
pub mod registrar;
pub mod sdp;
pub mod transaction;
pub mod transport;
pub mod ua;

pub use message::{Headers, Message, Method, ParseError, Request, Response};
pub use transport::{Peer, Transport};
pub use ua::{CallId, OutboundCall, Transmit, UaConfig, UaEvent, UserAgent};
