//! A waiting gate does not ask DNS at every attempt: a name that resolved
//! is reused for 5 s while its target is not ready, and a name that did
//! not resolve is asked again at the next attempt (a Service created late).
//! The resolver is a real one (Debian's dnsmasq on a loopback address,
//! logging every query it gets), named by a resolv.conf in the gate's own
//! mount namespace (root: elsewhere a visible skip).

mod common;

use common::*;

/// How often dnsmasq's log says it was asked for `name`'s A record.
fn asked(dns: &RealServer, name: &str) -> usize {
    dns.log()
        .lines()
        .filter(|line| line.contains(&format!("query[A] {name} ")))
        .count()
}

#[test]
fn a_resolved_name_is_reused_while_its_target_refuses_and_a_missing_one_is_asked_again() {
    let test = "a_resolved_name_is_reused_while_its_target_refuses";
    if !private_resolver_available(test) {
        return;
    }
    let down = RefusedPort::new();
    let records = ["--host-record=db.reuse.test,127.0.0.1".to_string()];
    let Some(dns) = dnsmasq(test, 81, "reuse.test", &records) else {
        return;
    };
    dns.until_ready(DNSMASQ_READY);
    let resolver = ResolvConf::naming([127, 0, 0, 81].into());
    let mut gate = unmeshed("2s");
    gate.args(["--wait-for-backoff", "100ms", "--attempt-timeout", "200ms"])
        .args([
            "--wait-for",
            &format!("postgres://db.reuse.test:{}", down.port),
        ])
        .args([
            "--wait-for",
            &format!("redis://late.reuse.test:{}", down.port),
        ]);
    app(&mut gate, "echo started", &[]);
    let out = output(&mut resolver.around(&gate));
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    // Both were checked again and again (every 50–100 ms for 2 s) ...
    let checks = |name: &str| {
        err.lines()
            .filter(|l| l.contains("ERROR"))
            .flat_map(|l| l.split(name).skip(1))
            .find_map(|rest| {
                let (n, _) = rest.split_once(" checks)")?;
                n.rsplit('(').next()?.parse::<usize>().ok()
            })
            .unwrap_or(0)
    };
    assert!(checks("db.reuse.test") >= 8, "{err}");
    assert!(checks("late.reuse.test") >= 8, "{err}");
    // ... the one that did not resolve was asked at each attempt (the log
    // is read by a thread of its own: waited for) ...
    let caught_up = poll(std::time::Duration::from_secs(5), || {
        (asked(&dns, "late.reuse.test") >= 8).then_some(())
    });
    assert!(caught_up.is_some(), "{}", dns.log());
    // ... and the one that resolved, once.
    assert_eq!(asked(&dns, "db.reuse.test"), 1, "{}", dns.log());
}
