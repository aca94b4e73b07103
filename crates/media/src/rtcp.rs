//! RTCP (RFC 3550 §6): the packets, the receiver statistics of appendix A, and a reporter
//! that decides when a session sends its compound report and what it learns from the far
//! end's. Sans-IO like the rest of the crate: times come in as `Instant`s, the report
//! interval's randomisation from a caller-supplied seed.

mod packet;
mod reporter;
mod stats;

pub use packet::{
    is_rtcp, parse_compound, write_compound, Bye, ReceiverReport, ReportBlock, RtcpError,
    RtcpPacket, SdesChunk, SdesItem, SenderInfo, SenderReport, SDES_CNAME,
};
pub use reporter::{ntp_from_unix, RtcpConfig, RtcpEvent, RtcpReporter, RtcpSummary};
pub use stats::ReceiverStats;
