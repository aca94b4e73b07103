//! RFC 3261 / RFC 6026 retransmission seen from a real peer: a caller whose first 200 OK is
//! "lost" (it ACKs only after 1.2 s) receives the 200 again, and the call then runs normally.

mod common;

use common::{run_sipp_uac, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_200_ok_is_retransmitted_until_the_ack_arrives() {
    let server = Server::start("retransmit");
    let (rtp_port, recorder) = common::start_rtp_caller();
    let (ok, errors) = tokio::task::block_in_place(|| {
        run_sipp_uac(
            &server,
            "uac_late_ack.xml",
            "15550000001",
            1,
            1,
            &["-key", "rtp_port", &rtp_port.to_string(), "-trace_msg"],
        )
    });
    assert!(ok, "{errors}\n{}", server.log_text());
    let packets = tokio::task::block_in_place(|| recorder.join().unwrap());
    assert!(
        common::frame_levels_ulaw(&packets)
            .iter()
            .any(|l| *l > 1000.0),
        "the demo app was not heard after the late ACK"
    );

    // SIPp's message trace: count the 200 OKs to the INVITE that reached the caller.
    let mut received_200 = 0;
    for entry in std::fs::read_dir(&server.data_dir).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("sipp-") {
            continue;
        }
        for file in std::fs::read_dir(entry.path()).unwrap().flatten() {
            if !file
                .file_name()
                .to_string_lossy()
                .ends_with("_messages.log")
            {
                continue;
            }
            let log = std::fs::read_to_string(file.path()).unwrap();
            received_200 += log
                .split("----------------------------------------------")
                .filter(|block| {
                    block.contains("message received")
                        && block.contains("SIP/2.0 200 OK")
                        && block.contains("INVITE")
                })
                .count();
        }
    }
    assert!(
        received_200 >= 2,
        "the caller received the 200 OK {received_200} time(s): not retransmitted"
    );
}
