//! Which sockets have datagrams waiting, for the whole engine in one `epoll_wait` per round:
//! reading every socket until `EAGAIN` cost a wasted syscall per session per tick, and one
//! more per RTCP socket. The thread never blocks here (timeout 0): it still sleeps on its
//! command channel until the next tick.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub(super) struct Poller {
    epoll: OwnedFd,
    events: Vec<libc::epoll_event>,
    registered: usize,
}

impl Poller {
    pub(super) fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; the returned descriptor is owned below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Poller {
            // SAFETY: `fd` is a fresh descriptor nothing else owns.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            events: Vec::new(),
            registered: 0,
        })
    }

    /// Level-triggered: a socket with datagrams left after a read is reported again.
    pub(super) fn add(&mut self, fd: RawFd, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: key,
        };
        // SAFETY: `event` is valid for the call; the kernel copies it.
        let rc =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.registered += 1;
        Ok(())
    }

    /// Must run before the socket is closed, or the count of registered sockets drifts (the
    /// kernel would drop the registration by itself).
    pub(super) fn remove(&mut self, fd: RawFd) {
        let mut event = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as in `add`; a non-null event keeps pre-2.6.9 kernels happy.
        let rc =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut event) };
        if rc == 0 {
            self.registered = self.registered.saturating_sub(1);
        }
    }

    /// The keys of the sockets readable now, without waiting.
    pub(super) fn ready(&mut self) -> impl Iterator<Item = u64> + '_ {
        let want = self.registered.max(16);
        if self.events.len() < want {
            self.events
                .resize(want, libc::epoll_event { events: 0, u64: 0 });
        }
        // SAFETY: the buffer holds `len` events and outlives the call.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.len().min(i32::MAX as usize) as libc::c_int,
                0,
            )
        };
        // EINTR or worse: nothing is reported this round; the next round asks again.
        let n = usize::try_from(n).unwrap_or(0);
        self.events[..n].iter().map(|e| e.u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn reports_readable_sockets_until_drained() {
        let mut poller = Poller::new().unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_nonblocking(true).unwrap();
        poller.add(a.as_raw_fd(), 1).unwrap();
        poller.add(b.as_raw_fd(), 2).unwrap();
        assert_eq!(poller.ready().count(), 0);
        b.send_to(b"x", a.local_addr().unwrap()).unwrap();
        b.send_to(b"y", a.local_addr().unwrap()).unwrap();
        assert_eq!(poller.ready().collect::<Vec<_>>(), vec![1]);
        let mut buf = [0u8; 8];
        a.recv_from(&mut buf).unwrap();
        assert_eq!(poller.ready().collect::<Vec<_>>(), vec![1]);
        a.recv_from(&mut buf).unwrap();
        assert_eq!(poller.ready().count(), 0);
        poller.remove(a.as_raw_fd());
        b.send_to(b"z", a.local_addr().unwrap()).unwrap();
        assert_eq!(poller.ready().count(), 0);
    }
}
