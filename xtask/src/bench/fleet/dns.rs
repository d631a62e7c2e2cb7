//! The name lookups of a fleet: the gates resolve the database's name at
//! every attempt, and in a pod Kubernetes' resolv.conf (`ndots:5` and three
//! search domains) turns a name with fewer than five dots into a walk of
//! the search domains, A and AAAA each. Here the bench's own process moves
//! to a private mount namespace whose `/etc/resolv.conf` is a pod's,
//! naming a DNS server of the bench's own on loopback that answers the
//! name (A: 127.0.0.1), says NXDOMAIN to the rest, and counts every query.
//! The gates it starts inherit the namespace; the machine's resolver is
//! never asked, nor changed.

use std::{
    collections::HashMap,
    ffi::CString,
    net::{Ipv4Addr, UdpSocket},
    path::Path,
    sync::{Arc, Mutex},
    thread,
};

use simple_dns::{CLASS, Packet, QTYPE, RCODE, ResourceRecord, TYPE, rdata::RData};

/// The database's name, as an app in a pod gives it (two dots: the search
/// domains are walked first).
pub const NAME: &str = "db.fleet.test";
/// Where the counting server listens.
const SERVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 53);
/// A pod's resolv.conf, in namespace `default`.
const POD_RESOLV_CONF: &str = "nameserver 127.0.0.53\n\
     search default.svc.cluster.local svc.cluster.local cluster.local\n\
     options ndots:5\n";

/// Queries received, by name and type.
pub struct CountingDns {
    queries: Arc<Mutex<HashMap<(String, String), u64>>>,
}

impl CountingDns {
    /// Binds 127.0.0.53:53 (root) and answers from a thread of its own.
    pub fn start() -> Result<CountingDns, String> {
        let socket = UdpSocket::bind((SERVER, 53)).map_err(|e| format!("{SERVER}:53: {e}"))?;
        let queries = Arc::new(Mutex::new(HashMap::new()));
        let counting = queries.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((got, from)) = socket.recv_from(&mut buf) {
                if let Some(reply) = answer(&buf[..got], &counting) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        Ok(CountingDns { queries })
    }

    /// Every query so far, all names and types.
    pub fn total(&self) -> u64 {
        self.queries.lock().map(|q| q.values().sum()).unwrap_or(0)
    }

    /// Lookups: the A queries for the first name of the walk.
    pub fn lookups(&self) -> u64 {
        let first = format!("{NAME}.default.svc.cluster.local");
        self.queries
            .lock()
            .map(|q| q.get(&(first, "A".to_string())).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub fn reset(&self) {
        if let Ok(mut q) = self.queries.lock() {
            q.clear();
        }
    }
}

/// The reply to one query, counted.
fn answer(query: &[u8], queries: &Mutex<HashMap<(String, String), u64>>) -> Option<Vec<u8>> {
    let packet = Packet::parse(query).ok()?;
    let question = packet.questions.first()?;
    let name = question.qname.to_string().to_ascii_lowercase();
    let kind = match question.qtype {
        QTYPE::TYPE(TYPE::A) => "A",
        QTYPE::TYPE(TYPE::AAAA) => "AAAA",
        _ => "other",
    };
    if let Ok(mut q) = queries.lock() {
        *q.entry((name.clone(), kind.to_string())).or_default() += 1;
    }
    let mut reply = Packet::new_reply(packet.id());
    reply.questions.push(question.clone());
    if name == NAME {
        if kind == "A" {
            reply.answers.push(ResourceRecord::new(
                question.qname.clone(),
                CLASS::IN,
                5,
                RData::A(Ipv4Addr::LOCALHOST.into()),
            ));
        }
    } else {
        *reply.rcode_mut() = RCODE::NameError;
    }
    reply.build_bytes_vec().ok()
}

/// Moves this thread (and what it starts) to a private mount namespace
/// where `/etc/resolv.conf` is a pod's, written in `dir`. Root only.
pub fn pod_resolver(dir: &Path) -> Result<(), String> {
    let conf = dir.join("resolv.conf");
    std::fs::write(&conf, POD_RESOLV_CONF).map_err(|e| format!("{}: {e}", conf.display()))?;
    let c = |text: &str| CString::new(text).map_err(|e| e.to_string());
    let (root, target) = (c("/")?, c("/etc/resolv.conf")?);
    let source = c(&conf.display().to_string())?;
    // SAFETY: unshare(2) and mount(2) with valid C strings we own. Mount
    // namespaces are per thread: the gates this thread spawns inherit it.
    // Private first, as unshare(1) does: a bind mount under a shared `/`
    // would propagate to the machine's namespace.
    let failed = unsafe {
        libc::unshare(libc::CLONE_NEWNS) != 0
            || libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            || libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ) != 0
    };
    if failed {
        return Err(format!(
            "a private resolv.conf needs root: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}
